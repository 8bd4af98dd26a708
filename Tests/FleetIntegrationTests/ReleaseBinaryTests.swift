import Foundation
import Testing
@testable import FleetCore

/// The release binary as it is installed: copied alone (the demo puts it on PATH), with no
/// build directory beside it. The plugins it writes are embedded in it, so it writes them all
/// the same. The binary is `MOSAIC_RELEASE_BIN`, else what `scripts/build-release` builds into
/// `.build-release` (not `.build`: `swift test` holds that directory's lock while tests run).
@Suite("the release binary, copied alone", .serialized)
struct ReleaseBinaryTests {
    static func releaseBinary() throws -> String {
        if let bin = ProcessInfo.processInfo.environment["MOSAIC_RELEASE_BIN"] { return bin }
        let build = try SpawnRunner.runBlocking(Invocation(Repository.root + "/scripts/build-release",
                                                           ["--scratch-path", Repository.root + "/.build-release"], timeout: .seconds(1800)))
        guard build.status == 0 else {
            Issue.record("scripts/build-release failed: \(build.stderr.suffix(2000))")
            throw CancellationError()
        }
        return build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a copied release mosaic writes pi's extension and opencode's plugin as the library renders them")
    func copiedBinaryWritesPlugins() async throws {
        let built = try Self.releaseBinary()
        let alone = try TestFleet.makeTempDirectory("release-bin")
        defer { try? FileManager.default.removeItem(atPath: alone) }
        // The path as the kernel names it (`/proc/self/exe`, which mosaic puts in its hook commands).
        let copy = URL(fileURLWithPath: alone).standardizedFileURL.path + "/mosaic"
        // Copied by `cp`, not in this process: a write descriptor of ours inherited by a child
        // another test forks meanwhile makes exec of the copy fail with ETXTBSY.
        let copied = try SpawnRunner.runBlocking(Invocation("cp", [built, copy]))
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: alone) == ["mosaic"], "nothing beside it")

        let fleet = try TestFleet()
        fleet.environment["MOSAIC_BIN"] = copy
        try fleet.writeRoster(agents: """
              - name: p1
                runtime: pi
                command: "sleep 600"
              - name: o1
                runtime: opencode
                command: "sleep 600"

            """)
        let up = try await fleet.runner.run(Invocation(copy, ["fleet", "up"], environment: fleet.environment, timeout: .seconds(60)))
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        let files = { (agent: String) in AgentRuntimeFiles(runDirectory: fleet.paths.runDirectory, agent: agent) }
        let hook = { (agent: String) in HookCommand(mosaic: copy, home: fleet.home, agent: agent) }
        #expect(FileIO.readSmall(files("p1").piExtension) == PiRuntime().extensionSource(hook("p1")))
        #expect(FileIO.readSmall(files("o1").opencodePlugin) == OpencodeRuntime().pluginSource(hook("o1")))
        let down = try await fleet.runner.run(Invocation(copy, ["fleet", "down"], environment: fleet.environment, timeout: .seconds(60)))
        #expect(down.status == 0, "\(down.stdout) \(down.stderr)")
        #expect(!FileManager.default.fileExists(atPath: files("p1").piExtension) && !FileManager.default.fileExists(atPath: files("o1").opencodeConfigDirectory))
    }
}
