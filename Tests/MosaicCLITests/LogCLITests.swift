import Foundation
import Testing
import FleetCore

/// Diagnostics through swift-log: on stderr at MOSAIC_LOG's level, never in the results.
@Suite("diagnostics")
struct LogCLITests {
    @Test("MOSAIC_LOG=debug logs each program run on stderr; stdout stays the JSON document alone")
    func debugOnStderr() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try cli.writeRoster("version: 1\ntmux:\n  socketName: cli-log-\(getpid())\nagents:\n  - name: a\n    runtime: stub\n")
        let quiet = try await cli.run(["fleet", "ps", "--json"])
        #expect(!quiet.stderr.contains("ran tmux"), "nothing below warning by default")
        let ps = try await cli.run(["fleet", "ps", "--json"], env: ["MOSAIC_LOG": "debug"])
        #expect(ps.stderr.contains("ran tmux"), "\(ps.stderr)")
        #expect(!ps.stdout.contains("ran tmux"))
        #expect(try JSONSerialization.jsonObject(with: ps.standardOutput) is [Any], "stdout is still one JSON array")
    }

    @Test("MOSAIC_LOG names a level; anything else is said once, on stderr")
    func levels() async throws {
        #expect(Log.level(in: ["MOSAIC_LOG": "trace"]) == .trace)
        #expect(Log.level(in: ["MOSAIC_LOG": "Warning"]) == .warning)
        #expect(Log.level(in: ["MOSAIC_LOG": "loud"]) == nil)
        #expect(Log.level(in: [:]) == nil)
        let cli = try CLI(); defer { cli.cleanup() }
        let run = try await cli.run(["--version"], env: ["MOSAIC_LOG": "loud"])
        #expect(run.status == 0)
        #expect(run.stderr.contains("MOSAIC_LOG=loud is not a level"))
        #expect(!run.stdout.contains("MOSAIC_LOG"))
    }
}
