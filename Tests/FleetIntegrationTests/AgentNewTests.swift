import Foundation
import Testing
@testable import FleetCore

/// `agent new` and `agent rm` against a real tmux server and the stub: the roster file is
/// compared byte for byte before and after.
@Suite("agent new and rm", .serialized)
struct AgentNewTests {
    /// A roster a person wrote: comments, a trailing comment, an env map, 2-space indents.
    func writeHandRoster(_ fleet: TestFleet) throws -> String {
        let text = """
        # hand-written fleet
        version: 1
        tenant: testers
        host: test-host
        tmux:
          socketName: \(fleet.socket)   # private to this test
        agents:
          # the one that was here first
          - name: keeper
            runtime: stub
            env: {A: "1", B: "two words"}

        # end of the fleet

        """
        try FileIO.makeDirectory(fleet.paths.fleetDirectory, mode: 0o755)
        try FileIO.writeAtomically(text, to: fleet.paths.roster)
        return text
    }

    func roster(_ fleet: TestFleet) -> String { FileIO.readSmall(fleet.paths.roster) ?? "(missing)" }

    @Test("agent new writes one entry, starts the stub with its persona and waits until healthy; rm stops it and restores the file")
    func newThenRemove() async throws {
        let fleet = try TestFleet()
        let before = try writeHandRoster(fleet)
        try await fleet.mosaic(["fleet", "up", "keeper"])

        let new = try await fleet.mosaic(["agent", "new", "scout", "--role", "coder", "--runtime", "stub", "--effort", "low", "--json"])
        #expect(new.status == 0, "\(new.stdout) \(new.stderr)")
        let report = try JSONSerialization.jsonObject(with: new.standardOutput) as? [String: Any]
        #expect(report?["healthy"] as? Bool == true)
        #expect(report?["role"] as? String == "coder")
        #expect(report?["action"] as? String == "started")
        // Exactly one entry appended after the last agent's line; every other byte kept.
        let inserted = "\n  - name: scout\n    runtime: stub\n    role: coder\n    effort: low"
        var expected = before
        expected.insert(contentsOf: inserted, at: before.range(of: "\"two words\"}")!.upperBound)
        #expect(roster(fleet) == expected)

        // The persona reached the stub through its file (0600), not through the conversation.
        let persona = PersonaFile(runDirectory: fleet.paths.runDirectory, agent: "scout").path
        var info = stat()
        #expect(stat(persona, &info) == 0 && info.st_mode & 0o777 == 0o600)
        try await fleet.waitUntil("the stub shows its persona") {
            try await fleet.tmux.capturePane("=scout:").contains("from \(persona): You are a coder in a Mosaic fleet")
        }
        let row = try await fleet.row("scout")
        #expect((row?["heartbeat"] as? [String: Any])?["health"] as? String == "healthy")

        // Refusals leave the roster as it is.
        let now = roster(fleet)
        let taken = try await fleet.mosaic(["agent", "new", "scout", "--role", "coder", "--runtime", "stub"])
        #expect(taken.status == 65)
        #expect(taken.stderr.contains("an agent named \"scout\" already exists"))
        let unknownRole = try await fleet.mosaic(["agent", "new", "other", "--role", "wizard", "--runtime", "stub"])
        #expect(unknownRole.status == 65)
        #expect(unknownRole.stderr.contains("no role named \"wizard\""))
        let badName = try await fleet.mosaic(["agent", "new", "bad/name", "--role", "coder"])
        #expect(badName.status == 64)
        let noDir = try await fleet.mosaic(["agent", "new", "other", "--role", "coder", "--runtime", "stub", "--workdir", "/does/not/exist"])
        #expect(noDir.status == 65)
        #expect(roster(fleet) == now)

        let rm = try await fleet.mosaic(["agent", "rm", "scout"])
        #expect(rm.status == 0, "\(rm.stderr)")
        #expect(try await !fleet.tmux.hasSession("scout"), "its session is gone")
        #expect(try await fleet.tmux.hasSession("keeper"), "the other agent still runs")
        #expect(roster(fleet) == before, "the roster is back to its original bytes")
        #expect(!FileManager.default.fileExists(atPath: persona))
        #expect(fleet.store.read("scout") == nil)
        let again = try await fleet.mosaic(["agent", "rm", "scout"])
        #expect(again.status == 65)
        #expect(again.stderr.contains("no agent named \"scout\""))
        try await fleet.mosaic(["fleet", "down"])
    }

    @Test("--no-start only writes the definition; fleet up then starts it with its persona, fleet down removes the file")
    func noStart() async throws {
        let fleet = try TestFleet()
        let before = try writeHandRoster(fleet)
        let new = try await fleet.mosaic(["agent", "new", "later", "--role", "reviewer", "--runtime", "stub", "--no-start"])
        #expect(new.status == 0, "\(new.stderr)")
        #expect(new.stdout.contains("not started"))
        #expect(roster(fleet).hasPrefix(String(before[..<before.range(of: "\"two words\"}")!.upperBound])))
        #expect(roster(fleet).contains("  - name: later\n    runtime: stub\n    role: reviewer\n    effort: high\n"))
        #expect(try await fleet.tmux.listPanes() == nil, "nothing was started")
        try await fleet.mosaic(["fleet", "up", "later"])
        try await fleet.waitUntil("the reviewer stub shows its persona") {
            (try? await fleet.tmux.capturePane("=later:"))?.contains("You are the reviewer of a Mosaic fleet") == true
        }
        try await fleet.mosaic(["fleet", "down"])
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left)")
    }

    @Test("the stub shows the persona MOSAIC_PERSONA_FILE names")
    func stubReadsPersonaFile() async throws {
        let fleet = try TestFleet()
        let file = fleet.home + "/persona.md"
        try FileIO.writeAtomically("Be terse.\nAlways.\n", to: file)
        var env = fleet.environment
        env["MOSAIC_AGENT_NAME"] = "solo"
        env["MOSAIC_PERSONA_FILE"] = file
        let result = try await fleet.runner.run(Invocation(TestFleet.mosaicBinary, ["agent", "stub"], environment: env,
                                                           standardInput: Data(), timeout: .seconds(10)))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("persona: 18 bytes from \(file): Be terse."))
    }
}

@Suite("agent new under a real systemd user manager", .serialized,
       .enabled("a systemd user manager must be able to start here (the reason is printed if not)") { UserManager.canStart })
struct AgentNewSystemdTests {
    @Test("agent new installs the units, enables and starts the agent's unit; rm stops and disables it and restores the roster")
    func throughUnits() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["keeper"]))
            let before = FileIO.readSmall(fleet.paths.roster)
            let new = try await fleet.mosaic(["agent", "new", "scout", "--role", "coder", "--runtime", "stub", "--json"])
            #expect(new.status == 0, "\(new.stdout) \(new.stderr)")
            #expect(new.stdout.contains("\"unitEnabled\": true"))
            #expect(new.stdout.contains("\"healthy\": true"))
            #expect(try await manager.isEnabled(["mosaic-agent@scout.service"]) == ["enabled"])
            #expect(try await manager.units()["mosaic-agent@scout.service"].map { "\($0.active)/\($0.sub)" } == "active/exited")

            let rm = try await fleet.mosaic(["agent", "rm", "scout"])
            #expect(rm.status == 0, "\(rm.stderr)")
            #expect(try await manager.isEnabled(["mosaic-agent@scout.service"]) == ["disabled"])
            #expect(try await manager.units()["mosaic-agent@scout.service"]?.isActive != true)
            #expect(try await !fleet.tmux.hasSession("scout"))
            #expect(FileIO.readSmall(fleet.paths.roster) == before)
            try await fleet.mosaic(["fleet", "down"])
        }
    }
}
