import Foundation
import Testing
@testable import FleetCore

/// The real aider (PyPI `aider-chat`, installed by scripts/setup-aider) in a fleet, talking to the
/// fake OpenAI-compatible server on 127.0.0.1. Skipped, loudly, only if aider cannot be installed.
@Suite("aider for real", .serialized, .enabled(if: RealRuntimes.run(AiderInstall.problem), "\(AiderInstall.problem ?? "")"))
struct AiderTests {
    /// A fleet of aider agents on the fake server: `(name, command)`, a nil command for the default launch.
    func fleet(_ server: FakeOpenAIServer, agents: [(String, String?)] = [("coder", nil)], interval: Int = 15, role: String? = nil) throws -> TestFleet {
        try RealRuntimes.require(AiderInstall.problem)
        let fleet = try TestFleet()
        if role != nil { try PersonaProbe.install(in: fleet) }
        fleet.environment["MOSAIC_RUNTIME_BIN"] = AiderInstall.binDirectory
        let work = fleet.home + "/work"
        try FileIO.makeDirectory(work, mode: 0o755)
        // aider's settings through its environment (AIDER_*); its own state (~/.aider) goes to a
        // HOME of the test's.
        let env = [
            "OPENAI_API_BASE": server.baseURL, "OPENAI_API_KEY": "test", "HOME": fleet.home + "/aider-home",
            "AIDER_GIT": "false", "AIDER_YES_ALWAYS": "true", "AIDER_CHECK_UPDATE": "false",
            "AIDER_SHOW_MODEL_WARNINGS": "false", "AIDER_ANALYTICS": "false", "AIDER_SHOW_RELEASE_NOTES": "false",
            "AIDER_MODEL": "openai/fake",
        ].sorted { $0.key < $1.key }.map { "      \($0.key): \"\($0.value)\"\n" }.joined()
        let yaml = agents.map { name, command in
            "  - name: \(name)\n    runtime: aider\n    model: openai/fake\n    effort: low\n    workdir: \(work)\n" + (role.map { "    role: \($0)\n" } ?? "")
                + (command.map { "    command: \"\($0)\"\n" } ?? "") + "    env:\n" + env
        }.joined()
        try fleet.writeRoster(agents: yaml, interval: interval)
        return fleet
    }

    func waitForPrompt(_ fleet: TestFleet, _ name: String = "coder") async throws {
        // aider is ready when its input prompt ("> ") is on the screen.
        try await fleet.waitUntil("aider shows its prompt", timeout: .seconds(60)) {
            try await fleet.screen(name).split(separator: "\n").contains { $0.hasPrefix(">") }
        }
    }

    @Test("up: aider runs as the pane's process, healthy through its sidecar; busy while it answers, then waiting; ps shows runtime, model, effort")
    func upBusyWaiting() async throws {
        let server = try FakeOpenAIServer(delay: 2, find: PersonaProbe.marker)
        let fleet = try fleet(server, role: PersonaProbe.role)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await fleet.waitUntil("the heartbeat is healthy", timeout: .seconds(30)) {
            try await fleet.runtimeRow("coder")?.health == "healthy"
        }
        let row = try #require(try await fleet.runtimeRow("coder"))
        // Measured: a script exec'd through its #! line shows as its own name in /proc (comm
        // "aider"), while tmux's pane_current_command shows the interpreter ("python3").
        #expect(row.runtimeCommand == "aider")
        #expect(row.raw["paneCommand"] as? String == "python3")
        #expect(row.runState == "running" && row.raw["driftFlag"] as? Bool == false)
        #expect(row.heartbeatPid == row.panePid, "the heartbeat vouches for the pane's process, the runtime")
        #expect(row.raw["runtime"] as? String == "aider" && row.raw["model"] as? String == "openai/fake" && row.raw["effort"] as? String == "low")
        #expect(try await fleet.runtimeRow("coder", ["--probe"])?.probeAnswered == true)

        try await waitForPrompt(fleet)
        try await fleet.type("Say hello in one word.", into: "coder")
        try await fleet.waitUntil("aider is busy (the fake server answers after 2 s)", timeout: .seconds(15)) {
            try await fleet.runtimeRow("coder")?.state == "busy"
        }
        try await fleet.waitUntil("aider is waiting for input again", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("coder")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(server.userMessages.contains { $0.contains("Say hello in one word.") }, "the message reached the model")
        let table = try await fleet.mosaic(["fleet", "ps"]).stdout
        #expect(table.contains("openai/fake/low") && table.contains("waiting/input"), "\(table)")

        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0)
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left)")
        PersonaProbe.expectDelivered(server, "aider")
    }

    @Test("send --verify to aider: accepted on the pane's evidence; an operator's draft is refused and left alone; --force clears it; reset types /clear")
    func sendVerify() async throws {
        let server = try FakeOpenAIServer(delay: 1)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        let sent = try await fleet.mosaic(["agent", "send", "coder", "-m", "Reply with one word.", "--verify", "--json"])
        let verdict = try #require(try JSONSerialization.jsonObject(with: sent.standardOutput) as? [String: Any])
        #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted", "\(sent.stdout) \(sent.stderr)")
        // aider has no hook that sees the prompt: the evidence is the screen, and the verdict says so.
        #expect((verdict["reason"] as? String ?? "").contains("pane changed"), "\(verdict)")
        try await fleet.waitUntil("the framed message reached the model", timeout: .seconds(20)) {
            server.userMessages.contains { $0.contains("Reply with one word.") && $0.contains("[mosaic msg=") }
        }
        try await fleet.waitUntil("aider is back at its prompt", timeout: .seconds(30)) {
            try await fleet.runtimeRow("coder")?.state == "waiting"
        }
        try await waitForPrompt(fleet)
        try await fleet.tmux.run(["send-keys", "-t", "=coder:", "-l", "operator half-typed"])
        try await fleet.waitUntil("the operator's draft shows") { try await fleet.screen("coder").contains("> operator half-typed") }
        let refused = try await fleet.mosaic(["agent", "send", "coder", "-m", "must not merge", "--verify", "--json"])
        let r = try #require(try JSONSerialization.jsonObject(with: refused.standardOutput) as? [String: Any])
        #expect(refused.status == 3 && r["verdict"] as? String == "draft" && r["typed"] as? Bool == false, "\(r)")
        #expect(try await fleet.screen("coder").contains("> operator half-typed"), "the draft is left as it was")
        #expect(!server.userMessages.contains { $0.contains("must not merge") || $0.contains("operator half-typed") })

        // --force clears the draft (C-e C-u) and sends; the cleared text is reported, not lost.
        let forced = try await fleet.mosaic(["agent", "send", "coder", "-m", "Forced through.", "--force", "--verify", "--json"])
        let f = try #require(try JSONSerialization.jsonObject(with: forced.standardOutput) as? [String: Any])
        #expect(forced.status == 0 && f["verdict"] as? String == "accepted" && f["clearedDraft"] as? String == "operator half-typed", "\(f)")
        try await fleet.waitUntil("the forced message reached the model", timeout: .seconds(20)) {
            server.userMessages.contains { $0.contains("Forced through.") }
        }
        #expect(!server.userMessages.contains { $0.contains("operator half-typed") })
        try await fleet.waitUntil("aider is back at its prompt", timeout: .seconds(30)) { try await fleet.runtimeRow("coder")?.state == "waiting" }

        // reset types /clear, aider's own command: no model request.
        try await waitForPrompt(fleet)
        let requests = server.userMessages.count
        let reset = try await fleet.mosaic(["agent", "reset", "coder", "--verify", "--json"])
        let z = try #require(try JSONSerialization.jsonObject(with: reset.standardOutput) as? [String: Any])
        #expect(reset.status == 0 && z["verdict"] as? String == "accepted", "\(z)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(server.userMessages.count == requests, "/clear went to aider, not to the model")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("kill -STOP: tmux continues aider at once as the pane's process (it stays healthy); stopped under a wrapper, it goes stale and ps says stopped")
    func stop() async throws {
        let server = try FakeOpenAIServer(delay: 0.2)
        // The same aider twice: as the pane's process, and as a child of `sh` (where a stop sticks).
        let fleet = try fleet(server, agents: [("direct", nil), ("wrapped", "sh -c 'aider; exit $?'")], interval: 1)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await fleet.waitUntil("both heartbeats are healthy", timeout: .seconds(30)) {
            let a = try await fleet.runtimeRow("direct"), b = try await fleet.runtimeRow("wrapped")
            return a?.health == "healthy" && b?.health == "healthy"
        }

        // 1. The pane's own process: tmux sends SIGCONT to a pane process that stops
        //    (server_child_stopped), so the stop does not last; the agent really runs on.
        let direct = try #require(try await fleet.runtimeRow("direct")?.panePid)
        kill(pid_t(direct), SIGSTOP)
        try await fleet.waitUntil("tmux continued aider", timeout: .seconds(2)) {
            ProcessTable().sample(Int32(direct))?.isStopped == false
        }
        let after = try #require(try await fleet.runtimeRow("direct", ["--probe"]))
        #expect(after.healthy && after.probeAnswered == true && after.runState == "running")

        // 2. Under a wrapper the runtime is a child of the pane's `sh`: its stop sticks.
        let row = try #require(try await fleet.runtimeRow("wrapped"))
        #expect(row.raw["paneCommand"] as? String == "sh" && row.runtimeCommand == "aider" && row.runState == "running")
        let child = try #require(row.runtimePid)
        #expect(child != row.panePid)
        kill(pid_t(child), SIGSTOP)
        defer { kill(pid_t(child), SIGCONT) }
        try await fleet.waitUntil("ps says stopped", timeout: .seconds(5)) {
            try await fleet.runtimeRow("wrapped")?.runState == "stopped"
        }
        try await fleet.waitUntil("the heartbeat goes stale within 3 intervals", timeout: .seconds(6)) {
            try await fleet.runtimeRow("wrapped")?.health == "stale"
        }
        let stopped = try #require(try await fleet.runtimeRow("wrapped", ["--probe", "--probe-timeout", "0.5"]))
        #expect(stopped.problems.contains("process stopped (aider \(child))"), "\(stopped.problems)")
        #expect(stopped.probeAnswered == false && !stopped.healthy)
        let check = try await fleet.mosaic(["fleet", "ps", "--check"])
        #expect(check.status == 3)
        #expect(check.stdout.contains("stopped"))

        kill(pid_t(child), SIGCONT)
        try await fleet.waitUntil("healthy again once continued", timeout: .seconds(5)) {
            try await fleet.runtimeRow("wrapped")?.health == "healthy"
        }
        try await fleet.mosaic(["fleet", "down"])
        try await fleet.waitUntil("the sidecars are gone") { fleet.sidecars.isEmpty }
    }

    @Test("/exit: reported exited with its status, the heartbeat goes stale, the sidecar leaves")
    func exit() async throws {
        let server = try FakeOpenAIServer(delay: 0.2)
        let fleet = try fleet(server, interval: 1)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await waitForPrompt(fleet)
        try await fleet.waitUntil("healthy", timeout: .seconds(10)) { try await fleet.runtimeRow("coder")?.health == "healthy" }
        try await fleet.type("/exit", into: "coder")
        try await fleet.waitUntil("the pane is dead", timeout: .seconds(15)) { try await fleet.runtimeRow("coder")?.session == "dead" }
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
        try await fleet.waitUntil("the heartbeat is stale", timeout: .seconds(6)) { try await fleet.runtimeRow("coder")?.health == "stale" }
        let row = try #require(try await fleet.runtimeRow("coder"))
        #expect(row.runState == "exited" && row.exitStatus == 0)
        #expect(row.problems.contains("exited with status 0"), "\(row.problems)")
        #expect(row.state == nil, "a stale heartbeat reports no state")
        let table = try await fleet.mosaic(["fleet", "ps"]).stdout
        #expect(table.contains("dead(0)") && table.contains("exited with status 0"), "\(table)")
    }
}
