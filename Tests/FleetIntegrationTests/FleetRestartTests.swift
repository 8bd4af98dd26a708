import Foundation
import Testing
@testable import FleetCore

/// Restart and the dead-pane path of up, on a real tmux server (private socket), without systemd.
@Suite("restart on a real tmux server", .serialized)
struct FleetRestartTests {
    @Test("up brings a dead pane back as restarted and leaves the live one; restart replaces every process and keeps the server")
    func deadPaneAndRestart() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["steady", "victim"]))
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        let server = try await fleet.serverPid()
        let steady = try #require(try await fleet.row("steady")?["panePid"] as? Int)
        let victim = try #require(try await fleet.row("victim")?["panePid"] as? Int)
        kill(pid_t(victim), SIGKILL)
        try await fleet.waitUntil("the pane is dead") { try await fleet.row("victim")?["paneAlive"] as? Bool == false }

        let up = try await fleet.mosaic(["fleet", "up", "--json"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        let actions = try Self.actions(up)
        #expect(actions == ["steady": "already-running", "victim": "restarted"], "\(up.stdout)")
        #expect(try await fleet.row("victim")?["paneAlive"] as? Bool == true)
        #expect(try await fleet.row("steady")?["panePid"] as? Int == steady)

        let restart = try await fleet.mosaic(["fleet", "restart", "--json"])
        #expect(restart.status == 0, "\(restart.stdout) \(restart.stderr)")
        #expect(try Self.actions(restart) == ["steady": "restarted", "victim": "restarted"], "\(restart.stdout)")
        #expect(try await fleet.row("steady")?["panePid"] as? Int != steady)
        #expect(try await fleet.row("steady")?["paneAlive"] as? Bool == true)
        #expect(try await fleet.serverPid() == server, "restart keeps the server")
        try await fleet.waitUntil("the restarted agents beat again") {
            fleet.store.read("steady") != nil && fleet.store.read("victim") != nil
        }
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("restart refuses an agent whose runtime cannot be found before it stops anything")
    func restartRefusesFirst() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["keeper"]))
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        let pid = try #require(try await fleet.row("keeper")?["panePid"] as? Int)
        fleet.environment["MOSAIC_RUNTIME_BIN"] = "/nonexistent-bin"
        fleet.environment["PATH"] = "/usr/bin:/bin"
        try fleet.writeRoster(agents: "  - name: keeper\n    runtime: codex\n")
        let restart = try await fleet.mosaic(["fleet", "restart", "keeper"])
        #expect(restart.status == 69, "\(restart.stderr)")
        #expect(restart.stderr.contains("\"codex\" not found"))
        #expect(try await fleet.row("keeper")?["panePid"] as? Int == pid, "the running agent was not stopped")
    }

    /// name → action of a `--json` outcome list.
    static func actions(_ result: ProcessResult) throws -> [String: String] {
        let rows = try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as? String ?? "?", $0["action"] as? String ?? "?") })
    }
}
