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
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
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
        .executableTarget(
            name: "mosaic",
            dependencies: [
                "FleetCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "FleetCoreTests", dependencies: ["FleetCore"], exclude: ["Fixtures"]),
        .testTarget(name: "FleetIntegrationTests", dependencies: ["FleetCore"]),
        .testTarget(name: "MosaicCLITests", dependencies: ["FleetCore"]),
    ],
    swiftLanguageModes: [.v6]
)
