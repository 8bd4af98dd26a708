import Foundation
import Testing
@testable import FleetCore

/// The real Claude Code (2.1.332, the binary in PyPI's claude-agent-sdk 0.2.189, installed by
/// scripts/setup-runtimes) in a fleet, talking Anthropic's Messages API to the fake model server
/// on 127.0.0.1. Skipped, loudly, only if it cannot be installed.
@Suite("Claude Code for real", .serialized, .enabled(if: RealRuntimes.run(RuntimeInstall.problem), "\(RuntimeInstall.problem ?? "")"))
struct ClaudeTests {
    static let apiKey = "sk-ant-test-0000-mosaic-fleet-tests"

    /// A fleet of Claude Code agents on the fake server. Claude Code's own state goes to a HOME of
    /// the test's, prepared as after a first run: onboarding done, the test key approved, the
    /// workdir trusted (otherwise it asks, or tries the real service first).
    func fleet(_ server: FakeOpenAIServer, agents: [String] = ["claude1"], interval: Int = 15, manager: UserManager? = nil,
               role: String? = nil) throws -> TestFleet {
        try RealRuntimes.require(RuntimeInstall.problem)
        let fleet = try manager.map { try TestFleet(manager: $0) } ?? TestFleet()
        if role != nil { try PersonaProbe.install(in: fleet) }
        fleet.environment["MOSAIC_RUNTIME_BIN"] = RuntimeInstall.claudeBin
        let work = fleet.home + "/work", claudeHome = fleet.home + "/claude-home"
        try FileIO.makeDirectory(work, mode: 0o755)
        try FileIO.makeDirectory(claudeHome, mode: 0o700)
        let state: [String: Any] = [
            "hasCompletedOnboarding": true, "lastOnboardingVersion": "2.1.332", "theme": "dark",
            "customApiKeyResponses": ["approved": [String(Self.apiKey.suffix(20))], "rejected": [String]()],
            "projects": [(work as NSString).standardizingPath: ["hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true, "allowedTools": [String]()]],
        ]
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: claudeHome + "/.claude.json"))
        // The user's own settings: permission prompts as before auto mode (2.1's default lets a
        // classifier approve "lower-risk" commands, measured: a `touch` ran unasked), and a hook of
        // their own. mosaic's per-agent settings file must leave both in force.
        try FileIO.makeDirectory(claudeHome + "/.claude", mode: 0o700)
        try Data(Self.userSettings(claudeHome).utf8).write(to: URL(fileURLWithPath: claudeHome + "/.claude/settings.json"))
        let env = [
            "HOME": claudeHome, "ANTHROPIC_BASE_URL": "http://127.0.0.1:\(server.port)", "ANTHROPIC_API_KEY": Self.apiKey,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
        ].sorted { $0.key < $1.key }.map { "      \($0.key): \"\($0.value)\"\n" }.joined()
        let yaml = agents.map { name in
            "  - name: \(name)\n    runtime: claude\n    model: fake-model\n    effort: low\n    workdir: \(work)\n" + (role.map { "    role: \($0)\n" } ?? "") + "    env:\n" + env
        }.joined()
        try fleet.writeRoster(agents: yaml, interval: interval)
        return fleet
    }

    /// The user's own `~/.claude/settings.json` in the tests.
    static func userSettings(_ claudeHome: String) -> String {
        #"{"permissions": {"defaultMode": "default", "disableAutoMode": "disable"}, "#
            + #""hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": "echo user-hook >> \#(claudeHome)/user-hook.log"}]}]}}"#
    }

    /// Claude Code is ready when its composer (`❯` between two rules) is on the screen.
    func waitForPrompt(_ fleet: TestFleet, _ name: String = "claude1") async throws {
        try await fleet.waitUntil("Claude Code shows its composer", timeout: .seconds(60)) {
            try await fleet.screen(name).split(separator: "\n").contains { $0.hasPrefix("❯") }
        }
    }

    func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any], "\(result.stdout) \(result.stderr)")
    }

    @Test("up: Claude Code runs as the pane's process, healthy; send --verify is accepted on its UserPromptSubmit hook's acknowledgement; busy, then waiting")
    func upSendBusyWaiting() async throws {
        let server = try FakeOpenAIServer(delay: 3, find: PersonaProbe.marker)
        let fleet = try fleet(server, role: PersonaProbe.role)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await fleet.waitUntil("the heartbeat is healthy", timeout: .seconds(30)) {
            try await fleet.runtimeRow("claude1")?.health == "healthy"
        }
        let row = try #require(try await fleet.runtimeRow("claude1"))
        #expect(row.runtimeCommand == "claude" && row.raw["paneCommand"] as? String == "claude", "\(row.raw)")
        #expect(row.runState == "running" && row.raw["driftFlag"] as? Bool == false)
        #expect(row.heartbeatPid == row.panePid, "the heartbeat vouches for the pane's process, Claude Code")
        #expect(row.raw["runtime"] as? String == "claude" && row.raw["model"] as? String == "fake-model" && row.raw["effort"] as? String == "low")
        try await waitForPrompt(fleet)
        try await fleet.waitUntil("its SessionStart hook has reported", timeout: .seconds(20)) {
            try await fleet.runtimeRow("claude1")?.state == "ok"
        }

        let sent = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Say hello in one word.", "--verify", "--json"])
        let verdict = try json(sent)
        #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted", "\(verdict)")
        #expect((verdict["reason"] as? String ?? "").contains("acknowledged"), "the hook's acknowledgement is the evidence: \(verdict)")
        #expect(verdict["inputShape"] as? String == "claude")
        #expect(try await fleet.runtimeRow("claude1")?.state == "busy", "the fake model answers after 3 s")
        try await fleet.waitUntil("Claude Code waits for input again (its Stop hook)", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("claude1")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(server.userMessages.contains { $0.contains("[mosaic msg=") && $0.contains("Say hello in one word.") }, "the message reached the model")
        let table = try await fleet.mosaic(["fleet", "ps"]).stdout
        #expect(table.contains("fake-model/low") && table.contains("waiting/input"), "\(table)")

        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0)
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left) (the per-agent settings file must go)")
        PersonaProbe.expectDelivered(server, "claude")
    }

    @Test("a tool call: waiting for approval while Claude Code asks; send types nothing into the dialog; approved, the tool runs, then waiting for input")
    func approval() async throws {
        let server = try FakeOpenAIServer(delay: 0.5)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        try await fleet.waitUntil("its SessionStart hook has reported", timeout: .seconds(20)) {
            try await fleet.runtimeRow("claude1")?.state == "ok"
        }
        let marker = "approved-by-operator.txt"
        let asked = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Please RUN-COMMAND: touch \(marker)", "--verify", "--json"])
        let a = try json(asked)
        #expect(asked.status == 0 && a["verdict"] as? String == "accepted", "\(a)")
        try await fleet.waitUntil("waiting for approval (the model asked to run a command)", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("claude1")
            return row?.state == "waiting" && row?.waitingFor == "approval"
        }
        let dialog = try await fleet.screen("claude1")
        #expect(dialog.contains("touch \(marker)"), "Claude Code shows the command it asks about: \(dialog)")
        #expect(try await fleet.mosaic(["fleet", "ps"]).stdout.contains("waiting/approval"))

        let blocked = try await fleet.mosaic(["agent", "send", "claude1", "-m", "not into the dialog", "--verify", "--ready-timeout", "2", "--json"])
        let b = try json(blocked)
        #expect(blocked.status == 75 && b["verdict"] as? String == "busy" && b["typed"] as? Bool == false, "\(b)")
        #expect((b["reason"] as? String ?? "").contains("waits for an approval"), "\(b)")
        #expect(!FileManager.default.fileExists(atPath: fleet.home + "/work/" + marker), "nothing answered the dialog")

        try await fleet.tmux.run(["send-keys", "-t", "=claude1:", "Enter"])  // the dialog's first choice: Yes
        try await fleet.waitUntil("the approved command ran", timeout: .seconds(20)) {
            FileManager.default.fileExists(atPath: fleet.home + "/work/" + marker)
        }
        try await fleet.waitUntil("waiting for input after the turn", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("claude1")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(!server.userMessages.contains { $0.contains("not into the dialog") })

        // Declined (Esc at the prompt): the turn ends and no hook runs; the transcript says so.
        let again = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Please RUN-COMMAND: touch declined.txt", "--verify", "--json"])
        #expect(again.status == 0, "\(again.stdout)")
        try await fleet.waitUntil("waiting for approval again", timeout: .seconds(30)) {
            try await fleet.runtimeRow("claude1")?.waitingFor == "approval"
        }
        try await fleet.tmux.run(["send-keys", "-t", "=claude1:", "Escape"])
        try await fleet.waitUntil("declined: waiting for input, from the transcript's interruption", timeout: .seconds(10)) {
            let row = try await fleet.runtimeRow("claude1")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(FileIO.readSmall(fleet.paths.runDirectory + "/claude1.state")?.contains("event=claude:interrupted") == true)
        #expect(!FileManager.default.fileExists(atPath: fleet.home + "/work/declined.txt"))
        #expect((FileIO.readSmall(fleet.home + "/claude-home/user-hook.log") ?? "").components(separatedBy: "user-hook").count - 1 == 2,
                "the user's own UserPromptSubmit hook ran beside mosaic's, once per prompt")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
        // The user's settings were in force (the prompt came, their hook ran) and are as they were.
        #expect(FileIO.readSmall(fleet.home + "/claude-home/.claude/settings.json") == Self.userSettings(fleet.home + "/claude-home"))
    }

    @Test("Esc while it answers ends the turn: waiting for input, not busy")
    func interrupted() async throws {
        let server = try FakeOpenAIServer(delay: 8, streamFirst: "Thinking it over")
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        let sent = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Take your time.", "--verify", "--json"])
        #expect(sent.status == 0, "\(sent.stdout)")
        try await fleet.waitUntil("busy", timeout: .seconds(10)) { try await fleet.runtimeRow("claude1")?.state == "busy" }
        // Measured, 2.1.332: Esc before the answer's first words puts the prompt back into the
        // composer and reports nothing (no hook, no transcript line); once it answers, Esc ends
        // the turn and its Stop hook runs (the transcript's interruption would say so too).
        try await fleet.waitUntil("it answers", timeout: .seconds(10)) { try await fleet.screen("claude1").contains("Thinking it over") }
        try await fleet.tmux.run(["send-keys", "-t", "=claude1:", "Escape"])
        try await fleet.waitUntil("waiting for input after the interruption", timeout: .seconds(5)) {
            let row = try await fleet.runtimeRow("claude1")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("Esc before the answer's first words: Claude Code puts the prompt back and reports nothing; send sees its own message there: a draft, which --force clears")
    func cancelledPrompt() async throws {
        let server = try FakeOpenAIServer(delay: 30)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        let first = try await fleet.mosaic(["agent", "send", "claude1", "-m", "First thought.", "--verify", "--json"])
        #expect(first.status == 0, "\(first.stdout)")
        try await fleet.waitUntil("the model has the request") { server.userMessages.contains { $0.contains("First thought.") } }
        try await fleet.tmux.run(["send-keys", "-t", "=claude1:", "Escape"])
        try await fleet.waitUntil("the prompt is back in the composer", timeout: .seconds(10)) {
            try await fleet.screen("claude1").split(separator: "\n").contains { $0.hasPrefix("❯\u{A0}[mosaic msg=") && $0.contains("First thought.") }
        }
        // Measured, 2.1.332: no hook runs, the transcript says nothing: the heartbeat still says busy.
        #expect(fleet.store.read("claude1")?.status == "busy")

        let refused = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Second thought.", "--verify", "--ready-timeout", "3", "--json"])
        let r = try json(refused)
        #expect(refused.status == 3 && r["verdict"] as? String == "draft" && r["typed"] as? Bool == false, "not 'busy': \(r)")
        let forced = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Second thought.", "--force", "--verify", "--json"])
        let f = try json(forced)
        #expect(forced.status == 0 && f["verdict"] as? String == "accepted", "\(f)")
        #expect((f["clearedDraft"] as? String ?? "").contains("First thought."), "\(f)")
        try await fleet.waitUntil("the second message reached the model", timeout: .seconds(20)) {
            server.userMessages.contains { $0.contains("Second thought.") }
        }
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("an operator's draft in Claude Code's composer is refused and left alone; --force clears it (Escape Escape) and sends")
    func draft() async throws {
        let server = try FakeOpenAIServer(delay: 0.5)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        try await fleet.tmux.run(["send-keys", "-t", "=claude1:", "-l", "operator half-typed"])
        try await fleet.waitUntil("the operator's draft shows") { try await fleet.screen("claude1").contains("❯\u{A0}operator half-typed") }
        let refused = try await fleet.mosaic(["agent", "send", "claude1", "-m", "must not merge", "--verify", "--json"])
        let r = try json(refused)
        #expect(refused.status == 3 && r["verdict"] as? String == "draft" && r["typed"] as? Bool == false, "\(r)")
        #expect(try await fleet.screen("claude1").contains("❯\u{A0}operator half-typed"), "the draft is left as it was")

        let forced = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Forced through.", "--force", "--verify", "--json"])
        let f = try json(forced)
        #expect(forced.status == 0 && f["verdict"] as? String == "accepted", "\(f)")
        #expect(f["clearedDraft"] as? String == "operator half-typed", "\(f)")
        try await fleet.waitUntil("the forced message reached the model", timeout: .seconds(20)) {
            server.userMessages.contains { $0.contains("Forced through.") }
        }
        #expect(!server.userMessages.contains { $0.contains("must not merge") || $0.contains("operator half-typed") })
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("a long multi-line message: Claude Code shows it as [Pasted text …]; it is still accepted, and reaches the model whole")
    func longPaste() async throws {
        let server = try FakeOpenAIServer(delay: 0.5)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        let body = (1...60).map { "line \($0) of a long note, with enough words to make the paste large" }.joined(separator: "\n")
        let sent = try await fleet.mosaic(["agent", "send", "claude1", "--verify", "--json"], stdin: body)
        let verdict = try json(sent)
        #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted" && verdict["delivery"] as? String == "paste", "\(verdict)")
        try await fleet.waitUntil("the whole note reached the model", timeout: .seconds(20)) {
            server.userMessages.contains { $0.contains("line 1 of a long note") && $0.contains("line 60 of a long note") }
        }
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("agent reset types /clear: accepted on the screen's evidence, Claude Code starts a new session with a new transcript")
    func reset() async throws {
        let server = try FakeOpenAIServer(delay: 0.3)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        let sent = try await fleet.mosaic(["agent", "send", "claude1", "-m", "Remember this.", "--verify", "--json"])
        #expect(try json(sent)["verdict"] as? String == "accepted")
        try await fleet.waitUntil("waiting after the reply", timeout: .seconds(20)) { try await fleet.runtimeRow("claude1")?.state == "waiting" }
        let pointer = fleet.paths.runDirectory + "/claude1.claude-transcript"
        let before = try #require(FileIO.readSmall(pointer), "the hooks named the session's transcript")
        let reset = try await fleet.mosaic(["agent", "reset", "claude1", "--verify", "--json"])
        let r = try json(reset)
        #expect(reset.status == 0 && r["verdict"] as? String == "accepted", "\(r)")
        try await fleet.waitUntil("a new session: SessionStart again, with a new transcript", timeout: .seconds(20)) {
            let state = try await fleet.runtimeRow("claude1")?.state
            return state == "ok" && FileIO.readSmall(pointer).map { $0 != before } == true
        }
        #expect(!(try await fleet.screen("claude1")).contains("Remember this."), "the conversation left the screen")
        #expect(server.userMessages.filter { $0.contains("Remember this.") }.count == 1, "/clear is Claude Code's own command, not a prompt")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("/exit: reported exited with status 0, the heartbeat goes stale, the sidecar leaves")
    func exit() async throws {
        let server = try FakeOpenAIServer(delay: 0.2)
        let fleet = try fleet(server, interval: 1)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForPrompt(fleet)
        try await fleet.waitUntil("healthy", timeout: .seconds(10)) { try await fleet.runtimeRow("claude1")?.health == "healthy" }
        try await fleet.type("/exit", into: "claude1")
        try await fleet.expectExitedCleanly("claude1")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("under a real systemd user manager: Claude Code runs from its agent unit, healthy, accepts a message; down stops the unit and leaves nothing",
          .enabled("a systemd user manager must be able to start here") { UserManager.canStart })
    func underSystemd() async throws {
        // The server outlives the manager: Foundation reaps its children one at a time, and a
        // server ended while the manager still ran hung the test in waitUntilExit (measured).
        let server = try FakeOpenAIServer(delay: 0.5)
        try await UserManager.with { manager in
            let fleet = try fleet(server, manager: manager)
            #expect(try await fleet.mosaic(["fleet", "init"]).status == 0)
            let up = try await fleet.mosaic(["fleet", "up", "--json"])
            #expect(up.status == 0 && up.stdout.contains("\"systemd\""), "\(up.stdout) \(up.stderr)")
            let units = try await manager.units()
            #expect(units["mosaic-agent@claude1.service"].map { "\($0.active)/\($0.sub)" } == "active/exited")
            try await fleet.waitUntil("the heartbeat is healthy", timeout: .seconds(30)) {
                try await fleet.runtimeRow("claude1")?.health == "healthy"
            }
            let row = try #require(try await fleet.runtimeRow("claude1"))
            #expect(row.runtimeCommand == "claude" && row.raw["systemdActive"] as? Bool == true, "\(row.raw)")
            try await waitForPrompt(fleet)
            let sent = try await fleet.mosaic(["agent", "send", "claude1", "-m", "From a unit.", "--verify", "--json"])
            let verdict = try json(sent)
            #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted", "\(verdict)")
            try await fleet.waitUntil("the message reached the model", timeout: .seconds(20)) {
                server.userMessages.contains { $0.contains("From a unit.") }
            }
            #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
            try await fleet.waitUntil("the agent unit is inactive", timeout: .seconds(10)) {
                try await manager.units()["mosaic-agent@claude1.service"].map { $0.active == "inactive" } ?? true
            }
            try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
            let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
            #expect(left.isEmpty, "run directory still holds \(left)")
        }
    }
}
