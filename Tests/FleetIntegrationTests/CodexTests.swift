import Foundation
import Testing
@testable import FleetCore

/// The real Codex CLI (0.163, OpenAI's static binary, installed by scripts/setup-runtimes) in a
/// fleet, talking to the fake server's Responses API on 127.0.0.1: no network, no API key.
/// Skipped, loudly, only if codex cannot be installed.
@Suite("codex for real", .serialized, .enabled(if: RealRuntimes.run(RuntimeInstall.problem), "\(RuntimeInstall.problem ?? "")"))
struct CodexTests {
    /// A fleet of one codex agent, `coder`, on the fake server. Codex keeps its settings and state
    /// in a CODEX_HOME of the test's: a custom model provider on the fake server (Responses API,
    /// key from FAKE_OPENAI_KEY), the workdir trusted (no trust prompt), no update check, no
    /// analytics.
    func fleet(_ server: FakeOpenAIServer, interval: Int = 15, role: String? = nil) throws -> TestFleet {
        try RealRuntimes.require(RuntimeInstall.problem)
        let fleet = try TestFleet()
        if role != nil { try PersonaProbe.install(in: fleet) }
        fleet.environment["MOSAIC_RUNTIME_BIN"] = RuntimeInstall.codexBin
        // Codex looks its trust entry up by the canonical path of its working directory.
        let home = Self.realPath(fleet.home)
        let work = home + "/work", codexHome = home + "/codex-home"
        for dir in [work, codexHome, home + "/user"] { try FileIO.makeDirectory(dir, mode: 0o700) }
        try FileIO.writeAtomically(Self.config(baseURL: server.baseURL, trusting: work), to: codexHome + "/config.toml")
        try fleet.writeRoster(agents: """
              - name: coder
                runtime: codex
                model: fake-model
                effort: low
                workdir: \(work)
            \(role.map { "    role: \($0)" } ?? "")
                env:
                  CODEX_HOME: "\(codexHome)"
                  HOME: "\(home)/user"
                  FAKE_OPENAI_KEY: "test"

            """, interval: interval)
        return fleet
    }

    static func config(baseURL: String, trusting work: String) -> String {
        """
        model_provider = "fake"
        model = "fake-model"
        check_for_update_on_startup = false

        [model_providers.fake]
        name = "fake"
        base_url = "\(baseURL)"
        wire_api = "responses"
        env_key = "FAKE_OPENAI_KEY"

        [projects."\(work)"]
        trust_level = "trusted"

        [analytics]
        enabled = false

        """
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Codex is ready when its composer is empty at the bottom (the `›` row and the footer's
    /// shortcut hint; a trust or login screen would show neither) and it has started: while it
    /// starts, the header says "loading" and the footer has no model line, and a message
    /// submitted then waits ("Waiting for startup") in the composer (measured: 3 s on a loaded
    /// machine).
    func waitForComposer(_ fleet: TestFleet) async throws {
        try await fleet.waitUntil("codex has started and shows its empty composer", timeout: .seconds(60)) {
            let screen = try await fleet.screen("coder")
            return screen.split(separator: "\n").contains { $0.hasPrefix("› ") } && screen.contains("? for shortcuts")
                && screen.contains("  fake-model low · ")
        }
    }

    /// A turn is over when the reply shows below the message that started it, and codex no
    /// longer shows its "Working (…s • esc to interrupt)" line.
    func waitForReply(_ fleet: TestFleet, after text: String) async throws {
        try await fleet.waitUntil("codex answered \"\(text)\"", timeout: .seconds(60)) {
            let screen = try await fleet.screen("coder")
            guard let message = screen.range(of: text, options: .backwards) else { return false }
            return screen[message.upperBound...].contains("• Fake reply.") && !screen.contains("esc to interrupt")
        }
    }

    /// Types `text` as a person would and presses Enter once it shows. Codex takes keys that
    /// arrive as fast as `send-keys` sends them for a paste and turns an Enter right after them
    /// into a newline (measured: 0-10 ms after, a newline; 30 ms and later, a submission); a
    /// person's Enter comes later, so this pauses as `agent send` does.
    func typeAndSubmit(_ fleet: TestFleet, _ text: String) async throws {
        try await fleet.tmux.run(["send-keys", "-t", "=coder:", "-l", "--", text])
        try await fleet.waitUntil("the text shows in the composer") { try await fleet.screen("coder").contains("› " + text) }
        try await Task.sleep(for: InputShape.codex.submitPause)
        try await fleet.tmux.run(["send-keys", "-t", "=coder:", "Enter"])
    }

    /// Command lines of the live processes that name this fleet's home: codex (its notify command
    /// names it), the sidecar, and a codex app-server daemon (it runs a copy of codex from
    /// CODEX_HOME, which is under the home).
    func processes(of fleet: TestFleet) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).compactMap { pid in
            let cmdline = FileIO.readSmall("/proc/\(pid)/cmdline", limit: 65536)?.replacingOccurrences(of: "\0", with: " ") ?? ""
            return cmdline.contains(fleet.home) ? cmdline : nil
        }
    }

    func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any], "\(result.stdout) \(result.stderr)")
    }

    @Test("up: codex runs as the pane's process, healthy through its sidecar; -m and the effort reach the model; busy from its title while it works, waiting for input after a turn (notify) and after an interrupted one (title); ps shows runtime, model, effort; down leaves nothing")
    func upNotifyDown() async throws {
        let server = try FakeOpenAIServer(delay: 3, find: PersonaProbe.marker)
        let fleet = try fleet(server, role: PersonaProbe.role)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await fleet.waitUntil("the heartbeat is healthy", timeout: .seconds(30)) {
            try await fleet.runtimeRow("coder")?.health == "healthy"
        }
        let row = try #require(try await fleet.runtimeRow("coder"))
        // Measured: the wheel's binary is a static executable named codex, reached through a
        // bin/codex symlink: /proc comm and tmux's pane_current_command both say "codex".
        #expect(row.runtimeCommand == "codex")
        #expect(row.raw["paneCommand"] as? String == "codex")
        #expect(row.runState == "running" && row.raw["driftFlag"] as? Bool == false)
        #expect(row.heartbeatPid == row.panePid, "the heartbeat vouches for the pane's process, the runtime")
        #expect(row.raw["runtime"] as? String == "codex" && row.raw["model"] as? String == "fake-model" && row.raw["effort"] as? String == "low")
        #expect(try await fleet.runtimeRow("coder", ["--probe"])?.probeAnswered == true)

        try await waitForComposer(fleet)
        // Without any -c, codex 0.163 starts a shared app-server daemon (its own session; it
        // outlives the pane). mosaic's -c notify keeps codex embedded in the pane's process.
        #expect(!processes(of: fleet).contains { $0.contains("app-server") }, "\(processes(of: fleet))")
        #expect(processes(of: fleet).contains { $0.contains("/bin/codex -c notify=") }, "codex itself is found: \(processes(of: fleet))")
        try await typeAndSubmit(fleet, "Say hello in one word.")
        try await fleet.waitUntil("the message reached the model", timeout: .seconds(30)) {
            server.userMessages.contains("Say hello in one word.")
        }
        // Busy comes from the pane title's spinner, which the sidecar follows (the fake server
        // answers after 3 s): notify has no start-of-turn event.
        // The heartbeat file is polled, not `fleet ps`: on a loaded machine one ps may outlast the turn.
        try await fleet.waitUntil("busy while codex works", timeout: .seconds(15)) { fleet.store.read("coder")?.status == "busy" }
        #expect(RuntimeStateStore(directory: fleet.paths.runDirectory).read("coder")?.event == "codex:title-working")
        let request = try #require(server.requests.first { $0["last_user"] as? String == "Say hello in one word." })
        #expect(request["api"] as? String == "responses" && request["stream"] as? Bool == true)
        #expect(request["model"] as? String == "fake-model" && request["effort"] as? String == "low", "-m and model_reasoning_effort: \(request)")
        try await waitForReply(fleet, after: "Say hello in one word.")
        // notify: agent-turn-complete after each finished turn.
        try await fleet.waitUntil("waiting for input after the turn (notify)", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("coder")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(fleet.store.read("coder")?.status == "waiting", "the sidecar carried the state into the heartbeat")
        try await fleet.waitUntil("the ps table shows model/effort and waiting/input", timeout: .seconds(15)) {
            let table = try await fleet.mosaic(["fleet", "ps"]).stdout
            return table.contains("fake-model/low") && table.contains("waiting/input")
        }
        #expect(!server.requests.contains { $0["unknown"] != nil }, "codex asked the server for nothing else: \(server.requests)")

        // An interrupted turn (Esc) ends without notify: the title's spinner stopping says it.
        try await typeAndSubmit(fleet, "This turn gets interrupted.")
        try await fleet.waitUntil("busy again", timeout: .seconds(15)) { fleet.store.read("coder")?.status == "busy" }
        try await fleet.tmux.run(["send-keys", "-t", "=coder:", "Escape"])
        try await fleet.waitUntil("codex says the turn was interrupted", timeout: .seconds(15)) {
            try await fleet.screen("coder").contains("interrupted")
        }
        try await fleet.waitUntil("waiting for input after the interrupted turn", timeout: .seconds(15)) {
            let row = try await fleet.runtimeRow("coder")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }

        let pid = try #require(row.panePid)
        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0, "\(down.stdout) \(down.stderr)")
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
        try await fleet.waitUntil("codex is gone", timeout: .seconds(10)) { ProcessTable().sample(Int32(pid)).map { $0.isZombie } ?? true }
        try await fleet.waitUntil("no process of this fleet is left", timeout: .seconds(10)) { processes(of: fleet).isEmpty }
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left)")
        PersonaProbe.expectDelivered(server, "codex")
    }

    @Test("a command that needs approval: waiting for approval from codex's title; send types nothing, not even with --force; approved, it runs; declined, waiting for input")
    func approval() async throws {
        let server = try FakeOpenAIServer(delay: 0.5)
        let fleet = try fleet(server)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForComposer(fleet)
        let work = Self.realPath(fleet.home) + "/work/"
        // The fake model asks to run the command outside the sandbox (exec_command with
        // sandbox_permissions require_escalated): codex asks the operator first.
        let asked = try await fleet.mosaic(["agent", "send", "coder", "-m", "Please RUN-COMMAND: touch approved.txt", "--verify", "--json"])
        #expect(asked.status == 0, "\(asked.stdout)")
        try await fleet.waitUntil("waiting for approval (codex's title says Action Required)", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("coder")
            return row?.state == "waiting" && row?.waitingFor == "approval"
        }
        #expect(RuntimeStateStore(directory: fleet.paths.runDirectory).read("coder")?.event == "codex:title-action-required")
        #expect(try await fleet.screen("coder").contains("Would you like to run the following command?"))
        // Its options take keys (`y` approves): a message typed there could answer it.
        for force in [false, true] {
            let blocked = try await fleet.mosaic(["agent", "send", "coder", "-m", "yes, you may", "--verify", "--ready-timeout", "1", "--json"]
                                                 + (force ? ["--force"] : []))
            let b = try json(blocked)
            #expect(blocked.status == 75 && b["typed"] as? Bool == false && (b["reason"] as? String ?? "").contains("approval"), "\(b)")
        }
        #expect(!FileManager.default.fileExists(atPath: work + "approved.txt"), "nothing answered the prompt")

        try await fleet.tmux.run(["send-keys", "-t", "=coder:", "Enter"])  // its first choice: Yes, proceed
        try await fleet.waitUntil("the approved command ran", timeout: .seconds(20)) { FileManager.default.fileExists(atPath: work + "approved.txt") }
        try await fleet.waitUntil("waiting for input after the turn", timeout: .seconds(30)) {
            let row = try await fleet.runtimeRow("coder")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }

        let again = try await fleet.mosaic(["agent", "send", "coder", "-m", "Please RUN-COMMAND: touch declined.txt", "--verify", "--json"])
        #expect(again.status == 0, "\(again.stdout)")
        try await fleet.waitUntil("waiting for approval again", timeout: .seconds(30)) { try await fleet.runtimeRow("coder")?.waitingFor == "approval" }
        try await fleet.tmux.run(["send-keys", "-t", "=coder:", "Escape"])  // No, and tell Codex what to do differently
        try await fleet.waitUntil("declined: waiting for input", timeout: .seconds(15)) {
            let row = try await fleet.runtimeRow("coder")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        #expect(!FileManager.default.fileExists(atPath: work + "declined.txt"))
        #expect(!server.userMessages.contains { $0.contains("yes, you may") })
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("/quit: reported exited with status 0, the heartbeat goes stale, the sidecar leaves")
    func exit() async throws {
        let server = try FakeOpenAIServer(delay: 0.2)
        let fleet = try fleet(server, interval: 1)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await waitForComposer(fleet)
        try await fleet.waitUntil("healthy", timeout: .seconds(10)) { try await fleet.runtimeRow("coder")?.health == "healthy" }
        try await typeAndSubmit(fleet, "/quit")
        try await fleet.expectExitedCleanly("coder")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("send --verify to codex: accepted on the pane's evidence and really submitted; a multi-line message arrives whole; an operator's draft is refused and left alone; --force clears it; reset starts a new chat")
    func sendVerify() async throws {
        let server = try FakeOpenAIServer(delay: 1)
        let fleet = try fleet(server)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await waitForComposer(fleet)

        // 1. One line, typed as keys. Codex has no hook that sees the prompt: the evidence is the screen.
        let sent = try await fleet.mosaic(["agent", "send", "coder", "-m", "Reply with one word.", "--verify", "--json"])
        let verdict = try json(sent)
        #expect(sent.status == 0 && verdict["verdict"] as? String == "accepted", "\(verdict)")
        #expect(verdict["inputShape"] as? String == "codex" && verdict["delivery"] as? String == "keys", "\(verdict)")
        #expect((verdict["reason"] as? String ?? "").contains("pane changed"), "\(verdict)")
        let id = try #require(verdict["id"] as? String)
        try await fleet.waitUntil("the framed message reached the model, as one submission", timeout: .seconds(30)) {
            server.userMessages.contains { $0.hasPrefix("[mosaic msg=\(id) ") && $0.hasSuffix("] Reply with one word.") }
        }
        try await waitForReply(fleet, after: "Reply with one word.")
        try await fleet.waitUntil("waiting for input (notify)", timeout: .seconds(30)) { try await fleet.runtimeRow("coder")?.state == "waiting" }

        // 2. Several lines: a bracketed paste keeps the newlines, Enter submits the whole.
        let multi = try await fleet.mosaic(["agent", "send", "coder", "-m", "first line\nsecond line", "--verify", "--json"])
        let m = try json(multi)
        #expect(multi.status == 0 && m["verdict"] as? String == "accepted" && m["delivery"] as? String == "paste", "\(m)")
        try await fleet.waitUntil("the two lines reached the model in one message", timeout: .seconds(30)) {
            server.userMessages.contains { $0.hasSuffix("] first line\nsecond line") }
        }
        try await waitForReply(fleet, after: "second line")
        try await waitForComposer(fleet)

        // 2b. Long: codex shows a paste of more than 1000 characters as `[Pasted Content N chars]`;
        // send takes it for the message at that length, and Enter sends the text itself.
        let long = (0..<200).map { "word\($0)" }.joined(separator: " ")
        let big = try await fleet.mosaic(["agent", "send", "coder", "-m", long, "--verify", "--json"])
        let b = try json(big)
        #expect(big.status == 0 && b["verdict"] as? String == "accepted" && b["delivery"] as? String == "paste", "\(b)")
        try await fleet.waitUntil("the long message reached the model whole", timeout: .seconds(30)) {
            server.userMessages.contains { $0.hasSuffix("] " + long) }
        }
        try await waitForReply(fleet, after: "word199")
        try await waitForComposer(fleet)

        // 3. An operator's draft: refused, typed nothing, left as it was.
        try await fleet.tmux.run(["send-keys", "-t", "=coder:", "-l", "operator half-typed"])
        try await fleet.waitUntil("the operator's draft shows") { try await fleet.screen("coder").contains("› operator half-typed") }
        let refused = try await fleet.mosaic(["agent", "send", "coder", "-m", "must not merge", "--verify", "--json"])
        let r = try json(refused)
        #expect(refused.status == 3 && r["verdict"] as? String == "draft" && r["typed"] as? Bool == false, "\(r)")
        #expect(try await fleet.screen("coder").contains("› operator half-typed"), "the draft is left as it was")
        #expect(!server.userMessages.contains { $0.contains("must not merge") || $0.contains("operator half-typed") })

        // 4. --force empties the composer (C-k, C-u) and sends; the draft never reaches the model.
        let forced = try await fleet.mosaic(["agent", "send", "coder", "-m", "after the draft", "--verify", "--force", "--json"])
        let f = try json(forced)
        #expect(forced.status == 0 && f["verdict"] as? String == "accepted", "\(f)")
        #expect(f["clearedDraft"] as? String == "operator half-typed", "\(f)")
        try await fleet.waitUntil("the forced message reached the model", timeout: .seconds(30)) {
            server.userMessages.contains { $0.hasSuffix("] after the draft") }
        }
        #expect(!server.userMessages.contains { $0.contains("operator half-typed") }, "\(server.userMessages)")
        try await waitForReply(fleet, after: "after the draft")
        try await waitForComposer(fleet)

        // 5. reset types /new: codex starts a new chat, the earlier messages leave the screen.
        #expect(try await fleet.screen("coder").contains("after the draft"))
        let reset = try await fleet.mosaic(["agent", "reset", "coder", "--verify", "--json"])
        let z = try json(reset)
        #expect(reset.status == 0 && z["verdict"] as? String == "accepted", "\(z)")
        try await fleet.waitUntil("a new chat: the conversation is off the screen", timeout: .seconds(15)) {
            !(try await fleet.screen("coder")).contains("after the draft")
        }
        #expect(!server.userMessages.contains("/new"), "a command, not a message to the model")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
    }
}
