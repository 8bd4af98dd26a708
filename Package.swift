// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "MosaicFleet",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mosaic", targets: ["mosaic"]),
        .library(name: "FleetCore", targets: ["FleetCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "FleetCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Embedded in the binary, not a bundle: the release binary is copied alone (see PluginSource).
            resources: [.embedInCode("Runtime/Plugins/pi-extension.ts"), .embedInCode("Runtime/Plugins/opencode-status.js")]
        ),
        // The daemon: HTTP on a unix socket, the SQLite journal, the supervisor loop. FleetCore
        // stays free of the server stack so the pure model builds and tests fast.
        .target(
            name: "FleetDaemon",
            dependencies: [
                "FleetCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "mosaic",
            dependencies: [
                "FleetCore",
                "FleetDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What the integration tests and the benchmark share (a fleet on a private socket and a
        // temp home, a private systemd user manager); never part of the mosaic product.
        .target(name: "FleetTestSupport", dependencies: ["FleetCore"], path: "Tests/FleetTestSupport"),
        .executableTarget(name: "mosaic-bench", dependencies: ["FleetCore", "FleetTestSupport"], path: "Benchmarks/mosaic-bench"),
        // libFuzzer targets for the parsers of outside input when built by scripts/fuzz; a replayer otherwise.
        .executableTarget(name: "mosaic-fuzz", dependencies: ["FleetCore"], path: "Fuzz/mosaic-fuzz"),
        .testTarget(name: "FleetCoreTests", dependencies: ["FleetCore"], exclude: ["Fixtures"]),
        .testTarget(
            name: "FleetDaemonTests",
            dependencies: [
                "FleetDaemon",
                "FleetCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "FleetIntegrationTests", dependencies: ["FleetCore", "FleetDaemon", "FleetTestSupport"]),
        .testTarget(name: "MosaicCLITests", dependencies: ["FleetCore"]),
    ],
    swiftLanguageModes: [.v6]
)
