import Foundation
import Testing
@testable import FleetCore

/// Launch commands per runtime: what mosaic adds so each runtime reports its state.
@Suite("runtime integrations: launch")
struct RuntimeLaunchIntegrationTests {
    let files = AgentRuntimeFiles(runDirectory: "/h/fleet/run", agent: "a1")
    let hook = HookCommand(mosaic: "/opt/mosaic dir/bin/mosaic", home: "/h", agent: "a1")

    func context(_ runtime: RuntimeKind, model: String? = "m-1", effort: String? = "high", env: [String: String] = [:]) -> IntegrationContext {
        IntegrationContext(agent: AgentSpec(name: "a1", runtime: runtime, env: env, model: model, effort: effort), files: files, hook: hook)
    }

    @Test("claude: a per-agent settings file with only hooks, --model and --effort")
    func claude() throws {
        let launch = ClaudeRuntime().launch(context(.claude))
        #expect(launch.arguments == ["--settings", "/h/fleet/run/a1.claude-settings.json", "--model", "m-1", "--effort", "high"])
        let file = try #require(launch.files.first)
        #expect(file.path == "/h/fleet/run/a1.claude-settings.json")
        let settings = try #require(try JSONSerialization.jsonObject(with: Data(file.contents.utf8)) as? [String: Any])
        #expect(Array(settings.keys) == ["hooks"], "nothing but hooks: the user's own settings stay in force")
        let hooks = try #require(settings["hooks"] as? [String: [[String: Any]]])
        #expect(Set(hooks.keys) == Set(ClaudeRuntime.hookEvents))
        let stop = try #require((hooks["Stop"]?.first?["hooks"] as? [[String: Any]])?.first)
        #expect(stop["type"] as? String == "command")
        #expect(stop["command"] as? String == "'/opt/mosaic dir/bin/mosaic' agent hook --home /h --agent a1 claude Stop")
        #expect(hooks["PostToolUse"]?.first?["matcher"] as? String == "*")
        #expect(ClaudeRuntime().launch(context(.claude, model: nil, effort: nil)).arguments.count == 2)
    }

    @Test("codex: notify as a TOML array for one launch, -m, and model_reasoning_effort")
    func codex() {
        let launch = CodexRuntime().launch(context(.codex))
        #expect(launch.arguments == [
            "-c", #"notify=["/opt/mosaic dir/bin/mosaic", "agent", "hook", "--home", "/h", "--agent", "a1", "codex", "notify"]"#,
            "-m", "m-1", "-c", #"model_reasoning_effort="high""#,
        ])
        #expect(launch.files.isEmpty && launch.environment.isEmpty)
        #expect(CodexRuntime.tomlString("a\"b\\c\n") == #""a\"b\\c\n""#)
    }

    @Test("pi: an extension file for this launch, --model and --thinking")
    func pi() throws {
        let launch = PiRuntime().launch(context(.pi))
        #expect(launch.arguments == ["--extension", "/h/fleet/run/a1.pi-extension.ts", "--model", "m-1", "--thinking", "high"])
        let source = try #require(launch.files.first?.contents)
        #expect(source.contains(#"const hook = ["/opt/mosaic dir/bin/mosaic","agent","hook","--home","/h","--agent","a1","pi"];"#))
        for event in ["session_start", "agent_start", "agent_end", "input"] { #expect(source.contains("\"\(event)\"")) }
        #expect(source.contains("event.text.slice(0, 512)"), "only the start of a submitted text travels to the hook")
    }

    @Test("opencode: --model, a plugin in its own config directory; effort is not passed; the roster's OPENCODE_CONFIG_DIR wins")
    func opencode() throws {
        let launch = OpencodeRuntime().launch(context(.opencode))
        #expect(launch.arguments == ["--model", "m-1"])
        #expect(launch.environment.map { "\($0.0)=\($0.1)" } == ["OPENCODE_CONFIG_DIR=/h/fleet/run/a1.opencode"])
        #expect(launch.files.first?.path == "/h/fleet/run/a1.opencode/plugins/mosaic-status.js")
        #expect(launch.files.first?.contents.contains("export const MosaicStatus") == true)
        let own = OpencodeRuntime().launch(context(.opencode, env: ["OPENCODE_CONFIG_DIR": "/mine"]))
        #expect(own.environment.isEmpty && own.files.isEmpty)
    }

    @Test("aider: --model and --reasoning-effort; hooks through AIDER_* so a roster command keeps them")
    func aider() {
        let launch = AiderRuntime().launch(context(.aider))
        #expect(launch.arguments == ["--model", "m-1", "--reasoning-effort", "high"])
        #expect(launch.environment.map { "\($0.0)=\($0.1)" } == [
            "AIDER_NOTIFICATIONS=true",
            "AIDER_NOTIFICATIONS_COMMAND='/opt/mosaic dir/bin/mosaic' agent hook --home /h --agent a1 aider notification",
            "AIDER_ANALYTICS_LOG=/h/fleet/run/a1.aider-events.jsonl",
        ])
        let own = AiderRuntime().launch(context(.aider, env: ["AIDER_NOTIFICATIONS": "false"]))
        #expect(!own.environment.contains { $0.0 == "AIDER_NOTIFICATIONS" }, "the roster's own setting wins")
    }

    @Test("stub and custom report themselves: no sidecar, nothing added")
    func selfReporting() {
        for kind in [RuntimeKind.stub, .custom] {
            #expect(!Runtimes.of(kind).usesSidecar)
            #expect(Runtimes.of(kind).launch(context(kind)) == LaunchAdditions())
        }
        for kind in [RuntimeKind.claude, .codex, .pi, .opencode, .aider] { #expect(Runtimes.of(kind).usesSidecar) }
    }

    @Test("the pane command starts the sidecar with the pane's pid, then execs the runtime with its arguments")
    func paneCommand() throws {
        let dir = NSTemporaryDirectory() + "rt-claude-\(getpid())"
        try FileIO.makeDirectory(dir, mode: 0o755)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/claude", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        let context = FleetContext(paths: FleetPaths(home: "/h"), environment: ["HOME": "/home/u", "MOSAIC_RUNTIME_BIN": dir],
                                   userName: "u", hostName: "box", mosaicExecutable: "/opt/mosaic dir/bin/mosaic", runner: RecordingRunner())
        let launch = RuntimeLaunch(context: context, roster: Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 5, agents: []))
        guard case .shell(let line) = try launch.command(for: AgentSpec(name: "c1", runtime: .claude, model: "opus")) else {
            Issue.record("expected a shell line")
            return
        }
        #expect(line.contains("; export PATH; ('/opt/mosaic dir/bin/mosaic' internal sidecar --home /h --agent c1 --runtime claude "
                              + "--interval 5 --pid $$ </dev/null >/dev/null 2>&1 &); exec \(dir)/claude --settings "
                              + "/h/fleet/run/c1.claude-settings.json --model opus"))
        // A roster command is exec'd as written, still with the sidecar in front.
        guard case .shell(let custom) = try launch.command(for: AgentSpec(name: "c2", runtime: .aider, command: "aider --no-git")) else { Issue.record("expected a shell command line"); return }
        #expect(custom.hasSuffix("2>&1 &); exec aider --no-git"))
        let env = launch.environment(for: AgentSpec(name: "c2", runtime: .aider, env: ["AIDER_ANALYTICS_LOG": "/mine"]))
        #expect(env.last { $0.0 == "AIDER_ANALYTICS_LOG" }?.1 == "/mine", "the roster's env comes last and wins")
    }
}

/// Hook payloads as the runtimes document them, turned into state.
@Suite("runtime integrations: hook payloads")
struct HookPayloadTests {
    func update(_ runtime: RuntimeKind, _ event: String, _ json: String) throws -> StatusUpdate? {
        try HookCall(runtime: runtime, event: event, payload: Data(json.utf8)).update()
    }

    // Claude Code hook input, from the hooks reference (docs.anthropic.com/en/docs/claude-code/hooks,
    // "Hook Input"): common fields session_id, transcript_path, cwd, hook_event_name.
    @Test("claude: UserPromptSubmit (documented example) is busy; its prompt is there for acknowledgement")
    func claudePrompt() throws {
        let json = """
        {"session_id":"abc123","transcript_path":"/Users/.../.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
         "cwd":"/Users/...","hook_event_name":"UserPromptSubmit","prompt":"Write a function to calculate the factorial of a number"}
        """
        #expect(try update(.claude, "UserPromptSubmit", json) == .busy("claude:UserPromptSubmit"))
        #expect(try HookPayload.parse(Data(json.utf8)).string("prompt") == "Write a function to calculate the factorial of a number")
    }

    @Test("claude: Stop (documented example) is waiting for input; SessionStart is ok; PostToolUse is busy")
    func claudeStop() throws {
        #expect(try update(.claude, "Stop", """
            {"session_id":"abc123","transcript_path":"~/.claude/projects/.../00893aaf-19fa-41d2-8238-13269b9b3ca0.jsonl",
             "hook_event_name":"Stop","stop_hook_active":true}
            """) == .waiting("claude:Stop", for: .input))
        #expect(try update(.claude, "SessionStart", """
            {"session_id":"abc123","transcript_path":"~/.claude/projects/.../x.jsonl","hook_event_name":"SessionStart","source":"startup"}
            """) == .ok("claude:SessionStart"))
        #expect(try update(.claude, "PostToolUse", """
            {"session_id":"abc123","transcript_path":"/x.jsonl","cwd":"/Users/...","hook_event_name":"PostToolUse","tool_name":"Write",
             "tool_input":{"file_path":"/path/to/file.txt","content":"file content"},"tool_response":{"filePath":"/path/to/file.txt","success":true}}
            """) == .busy("claude:PostToolUse"))
    }

    @Test("claude: Notification by notification_type, or by the documented messages where it is absent")
    func claudeNotification() throws {
        func notification(_ fields: String) throws -> StatusUpdate? {
            try update(.claude, "Notification", #"{"session_id":"abc123","transcript_path":"/x.jsonl","cwd":"/w","hook_event_name":"Notification","# + fields + "}")
        }
        #expect(try notification(#""message":"Claude needs your permission to use Bash","notification_type":"permission_prompt""#)
                == .waiting("claude:Notification", for: .approval))
        #expect(try notification(#""message":"Claude is waiting for your input","notification_type":"idle_prompt""#)
                == .waiting("claude:Notification", for: .input))
        #expect(try notification(#""message":"Login successful","notification_type":"auth_success""#) == nil)
        #expect(try notification(#""message":"Claude needs your permission to use Bash""#) == .waiting("claude:Notification", for: .approval))
        #expect(try notification(#""message":"Claude is waiting for your input""#) == .waiting("claude:Notification", for: .input))
        // The reference's own example says nothing about state.
        #expect(try notification(#""message":"Task completed successfully""#) == nil)
    }

    /// Payloads the real Claude Code 2.1.332 sent to its hooks here (Fixtures/hooks; only the
    /// temporary paths were replaced by /home/dev).
    static func claudeFixture(_ event: String) throws -> Data {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hooks/claude-2.1.332-\(event).json")
        return try Data(contentsOf: url)
    }

    @Test("claude: the payloads the real Claude Code 2.1.332 sent: SessionStart ok, UserPromptSubmit busy with the framed id acknowledged, Stop waiting")
    func claudeRealPayloads() throws {
        func real(_ event: String) throws -> StatusUpdate? {
            try HookCall(runtime: .claude, event: event, payload: try Self.claudeFixture(event)).update()
        }
        #expect(try real("SessionStart") == .ok("claude:SessionStart"))
        #expect(try real("UserPromptSubmit") == StatusUpdate(status: .busy, ack: "abc123", event: "claude:UserPromptSubmit"))
        #expect(try real("Stop") == .waiting("claude:Stop", for: .input))
    }

    @Test("claude: the PermissionRequest payload the real Claude Code sent is waiting for approval; every payload's transcript path is kept for the sidecar")
    func claudePermissionAndTranscriptPath() throws {
        let payload = try Self.claudeFixture("PermissionRequest")
        #expect(try HookCall(runtime: .claude, event: "PermissionRequest", payload: payload).update() == .waiting("claude:PermissionRequest", for: .approval))
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = RuntimeStateStore(directory: dir)
        try HookCall(runtime: .claude, event: "PermissionRequest", payload: payload).record(for: "c1", in: store)
        let files = AgentRuntimeFiles(runDirectory: dir, agent: "c1")
        #expect(FileIO.readSmall(files.claudeTranscript)
                == "/home/dev/.claude/projects/-home-dev-work/e1a42605-adf6-4870-9382-ddc876ff1d08.jsonl\n")
        #expect(store.read("c1")?.waitingFor == .approval)
        // Only an absolute path on one line is kept; other runtimes keep nothing.
        let claude = ClaudeRuntime()
        #expect(claude.remember(event: "Stop", payload: HookPayload(object: ["transcript_path": "~/x.jsonl"]), files: files).isEmpty)
        #expect(claude.remember(event: "Stop", payload: HookPayload(object: ["transcript_path": "/x\n/y"]), files: files).isEmpty)
        #expect(PiRuntime().remember(event: "input", payload: HookPayload(object: ["transcript_path": "/x"]), files: files).isEmpty)
        files.removeAll()
        #expect(!FileManager.default.fileExists(atPath: files.claudeTranscript), "down removes it")
        // A bad agent name writes nothing anywhere.
        #expect(throws: (any Error).self) { try HookCall(runtime: .claude, event: "Stop", payload: payload).record(for: "../c1", in: store) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/../c1.claude-transcript"))
    }

    static func tempDirectory() throws -> String {
        var template = Array("\(NSTemporaryDirectory())/claude-transcript.XXXXXX".utf8CString)
        return String(cString: try #require(mkdtemp(&template)))
    }

    @Test("claude: its transcript's interruption (a declined permission prompt, as the real Claude Code wrote it) is waiting for input; other lines say nothing")
    func claudeTranscriptLines() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hooks/claude-2.1.332-transcript-declined.jsonl")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let found = try lines.compactMap { try ClaudeRuntime.update(forTranscriptLine: $0) }
        #expect(found.count == 1, "only the interruption: not the turn's duration, not the rejected tool result")
        #expect(found.first?.update == .waiting("claude:interrupted", for: .input))
        #expect(found.first?.at == Timestamp.parse("2026-11-25T22:30:08.820Z"))
        #expect(try ClaudeRuntime.update(forTranscriptLine: #"{"type":"user","message":{"role":"user","content":"[Request interrupted by user]"},"timestamp":"2026-11-25T22:31:00.000Z"}"#)?.update
                == .waiting("claude:interrupted", for: .input), "the plain form, while it answers")
        #expect(try ClaudeRuntime.update(forTranscriptLine: #"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"[Request interrupted by user] is what it says"}]}}"#) == nil)
    }

    @Test("claude: the transcript watch follows the transcript the hooks named, from where it was, and drops an interruption older than the last report")
    func claudeTranscriptWatch() throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = AgentRuntimeFiles(runDirectory: dir, agent: "c1")
        let store = RuntimeStateStore(directory: dir)
        let watch = ClaudeTranscriptWatch(pointer: files.claudeTranscript, states: store, agent: "c1", every: .zero)
        #expect(watch.poll() == EventPoll(), "no transcript named yet")
        let transcript = dir + "/session-1.jsonl"
        try FileIO.writeAtomically(#"{"type":"user","message":{"content":"[Request interrupted by user]"},"timestamp":"2026-11-25T22:00:00.000Z"}"# + "\n",
                                   to: transcript, mode: 0o600)
        try files.write([AgentFile(path: files.claudeTranscript, contents: transcript + "\n")])
        #expect(watch.poll() == EventPoll(), "what was there before the path was learnt is history")
        func append(_ line: String) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: transcript))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((line + "\n").utf8))
            try handle.close()
        }
        _ = try store.apply(.waiting("claude:PermissionRequest", for: .approval), for: "c1", now: Timestamp.parse("2026-11-25T22:10:00.000Z")!)
        try append(#"{"type":"user","message":{"content":[{"type":"text","text":"[Request interrupted by user for tool use]"}]},"timestamp":"2026-11-25T22:10:05.000Z"}"#)
        #expect(watch.poll().updates == [.waiting("claude:interrupted", for: .input)])
        #expect(watch.poll() == EventPoll(), "read once")
        // The next prompt's hook came before the watch saw an interruption: old news.
        _ = try store.apply(.busy("claude:UserPromptSubmit"), for: "c1", now: Timestamp.parse("2026-11-25T22:20:00.000Z")!)
        try append(#"{"type":"user","message":{"content":[{"type":"text","text":"[Request interrupted by user]"}]},"timestamp":"2026-11-25T22:19:59.000Z"}"#)
        #expect(watch.poll().updates.isEmpty)
        // A new session (/clear) names a new transcript, read from its start if it is new.
        let second = dir + "/session-2.jsonl"
        try files.write([AgentFile(path: files.claudeTranscript, contents: second + "\n")])
        #expect(watch.poll() == EventPoll())
        try FileIO.writeAtomically(#"{"type":"user","message":{"content":"[Request interrupted by user]"},"timestamp":"2026-11-25T22:30:00.000Z"}"# + "\n",
                                   to: second, mode: 0o600)
        #expect(watch.poll().updates == [.waiting("claude:interrupted", for: .input)])
    }

    @Test("claude: the payload's hook_event_name wins over the argument; unknown events change nothing")
    func claudeOthers() throws {
        #expect(try update(.claude, "Stop", #"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"x"}"#) == .busy("claude:UserPromptSubmit"))
        #expect(try update(.claude, "PreCompact", #"{"session_id":"s","hook_event_name":"PreCompact","trigger":"manual","custom_instructions":""}"#) == nil)
        #expect(throws: HookPayloadError.self) { try update(.claude, "Stop", "not json") }
        #expect(throws: HookPayloadError.self) { try update(.claude, "Stop", "[1, 2]") }
    }

    // Codex appends the notification as the last argument; this is the serialization pinned in
    // codex-rs/core/src/user_notification.rs (openai/codex).
    @Test("codex: agent-turn-complete (the serialization Codex pins in its tests) is waiting for input")
    func codexNotify() throws {
        let json = #"{"type":"agent-turn-complete","thread-id":"b5f6c1c2-1111-2222-3333-444455556666","turn-id":"12345","cwd":"/Users/example/project","input-messages":["Rename `foo` to `bar` and update the callsites."],"last-assistant-message":"Rename complete and verified `cargo build` succeeds."}"#
        #expect(try update(.codex, "notify", json) == StatusUpdate.waiting("codex:agent-turn-complete", for: .input).yieldingToApproval())
        #expect(try update(.codex, "notify", #"{"type":"something-new"}"#) == nil)
        #expect(Runtimes.of(.codex).payloadSource == .lastArgument)
    }

    // Captured from the real codex 0.163 (its notify program wrote its last argument to a file):
    // one call per finished turn, with a "client" field the documented form lacks. Codex also
    // names its new threads with a turn of their own, which ends with a notify call of its own.
    @Test("codex: the payload the real codex 0.163 sent after a turn is waiting for input")
    func codexRealNotify() throws {
        let json = #"{"type":"agent-turn-complete","thread-id":"01a21416-c432-7a81-9761-b456661c4a5a","turn-id":"01a21417-01f0-7cb2-89dc-cb09e1cbb592","cwd":"/tmp/cx/exp.9HuF/work","client":"codex-tui","input-messages":["Say hello in one word."],"last-assistant-message":"Fake reply."}"#
        #expect(try update(.codex, "notify", json) == StatusUpdate.waiting("codex:agent-turn-complete", for: .input).yieldingToApproval())
        #expect(try HookPayload.parse(Data(json.utf8)).string("client") == "codex-tui")
    }

    @Test("codex: a turn completing while an approval prompt is open (another thread's) leaves waiting for approval; otherwise it is waiting for input")
    func codexNotifyDuringApproval() throws {
        let notify = try #require(try update(.codex, "notify", #"{"type":"agent-turn-complete","thread-id":"t2","turn-id":"1"}"#))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let asking = StatusUpdate.waiting("codex:title-action-required", for: .approval).applied(to: nil, now: t0)
        #expect(notify.applied(to: asking, now: t0.addingTimeInterval(1)) == asking)
        let working = StatusUpdate.busy("codex:title-working").applied(to: nil, now: t0)
        let done = notify.applied(to: working, now: t0.addingTimeInterval(1))
        #expect(done.status == .waiting && done.waitingFor == .input && done.event == "codex:agent-turn-complete")
        // Any other report still ends an approval (the title going idle after a decline).
        #expect(StatusUpdate.waiting("codex:title-idle", for: .input).applied(to: asking, now: t0.addingTimeInterval(1)).waitingFor == .input)
    }

    @Test("codex: the pane title's spinner is busy, its end waiting for input, Action Required waiting for approval")
    func codexTitle() throws {
        // Titles measured from codex 0.163 in tmux (pane_title), busy and idle.
        #expect(CodexTitleWatch.activity("\u{2834} \u{2834} | work") == .working)
        #expect(CodexTitleWatch.activity("work") == .idle)
        #expect(CodexTitleWatch.activity("[ ! ] Action Required | work") == .actionRequired)
        #expect(CodexTitleWatch.activity("") == .idle)

        var template = Array("\(NSTemporaryDirectory())/codex-title.XXXXXX".utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let states = RuntimeStateStore(directory: dir)
        var titles = ["bash", "work", "\u{280B} \u{280B} | work", "\u{2834} \u{2834} | work", "work", "work"]
        let watch = CodexTitleWatch(states: states, agent: "a1", every: .zero) { titles.isEmpty ? nil : titles.removeFirst() }
        func step() throws -> [StatusUpdate] {
            let found = watch.poll()
            for update in found.updates { _ = try states.apply(update, for: "a1") }
            return found.updates
        }
        #expect(try step().isEmpty && step().isEmpty, "idle titles before any turn say nothing")
        #expect(try step() == [.busy("codex:title-working")])
        #expect(try step().isEmpty, "still working: no new report")
        #expect(try step() == [.waiting("codex:title-idle", for: .input)])
        #expect(try step().isEmpty)
        // A new turn: the spinner again.
        titles = ["\u{2834} \u{2834} | work"]
        #expect(try step() == [.busy("codex:title-working")])
        // notify at the turn's end comes a moment before the title goes idle: it stands...
        _ = try states.apply(.waiting("codex:agent-turn-complete", for: .input), for: "a1")
        titles = ["\u{2834} \u{2834} | work"]
        #expect(try step().isEmpty, "a fresh report is not overruled by a spinner about to stop")
        // ...but a report that has stood a while (a late notify of codex's naming turn) while the
        // spinner kept turning is overruled.
        _ = try states.apply(.waiting("codex:agent-turn-complete", for: .input), for: "a1", now: Date().addingTimeInterval(-2))
        titles = ["\u{2834} \u{2834} | work"]
        #expect(try step() == [.busy("codex:title-working")])
        titles = []
        #expect(watch.poll().problems.count == 1 && watch.poll().problems.isEmpty, "an unreadable title is said once")
    }

    @Test("codex: the sidecar watches the title only when it knows its tmux socket and pane")
    func codexTitleSource() {
        let files = AgentRuntimeFiles(runDirectory: "/h/fleet/run", agent: "a1")
        #expect(CodexRuntime().eventSources(files: files, environment: [:]).isEmpty)
        #expect(CodexRuntime().eventSources(files: files, environment: ["MOSAIC_TMUX_SOCKET": "default", "TMUX_PANE": "%3"]).isEmpty)
        #expect(CodexRuntime().eventSources(files: files, environment: ["MOSAIC_TMUX_SOCKET": "fleet-1", "TMUX_PANE": "%3"]).count == 1)
    }

    @Test("pi: the extension's agent_start / agent_end / session_start; input acknowledges a framed message and leaves the state")
    func pi() throws {
        // The payload as the extension sends it; the fields are those measured on the pi4py fork of pi 1.0.3.
        #expect(try update(.pi, "input", #"{"type":"input","text":"[mosaic msg=m1-abc from=ops] Say hello."}"#)
                == StatusUpdate(status: nil, ack: "m1-abc", event: "pi:input"))
        #expect(try update(.pi, "input", #"{"type":"input","text":"typed by a person"}"#) == nil)
        #expect(try update(.pi, "input", #"{"type":"input"}"#) == nil)
        #expect(try update(.pi, "agent_start", #"{"type":"agent_start"}"#) == .busy("pi:agent_start"))
        #expect(try update(.pi, "agent_end", #"{"type":"agent_end"}"#) == .waiting("pi:agent_end", for: .input))
        #expect(try update(.pi, "session_start", #"{"type":"session_start"}"#) == .ok("pi:session_start"))
    }

    // opencode's bus events (packages/opencode/src/session/status.ts: session.status carries
    // {sessionID, status: {type: "idle" | "busy" | "retry"}}; session.idle is the older form).
    @Test("opencode: session.status busy/retry/idle, session.idle, permission asked and replied")
    func opencode() throws {
        func event(_ type: String, _ status: String? = nil) throws -> StatusUpdate? {
            let props = status.map { #"{"sessionID":"ses_1","status":{"type":"\#($0)"}}"# } ?? #"{"sessionID":"ses_1"}"#
            return try update(.opencode, type, #"{"type":"\#(type)","properties":\#(props)}"#)
        }
        #expect(try event("session.status", "busy") == .busy("opencode:session.status"))
        #expect(try event("session.status", "retry") == .busy("opencode:session.status"))
        #expect(try event("session.status", "idle") == .waiting("opencode:session.status", for: .input))
        #expect(try event("session.idle") == .waiting("opencode:session.idle", for: .input))
        #expect(try event("permission.asked") == .waiting("opencode:permission.asked", for: .approval))
        #expect(try event("permission.updated") == .waiting("opencode:permission.updated", for: .approval))
        #expect(try event("permission.replied") == .busy("opencode:permission.replied"))
        #expect(try event("message.part.updated") == nil)
    }

    // The plugin's chat.message hook passes {type, text}: the start of the prompt's text parts.
    @Test("opencode: chat.message acknowledges a framed message and leaves the state; the plugin forwards it")
    func opencodeAcknowledgement() throws {
        #expect(try update(.opencode, "chat.message", #"{"type":"chat.message","text":"[mosaic msg=m7-x from=ops] Plan it."}"#)
                == StatusUpdate(status: nil, ack: "m7-x", event: "opencode:chat.message"))
        #expect(try update(.opencode, "chat.message", #"{"type":"chat.message","text":"typed by a person"}"#) == nil)
        #expect(try update(.opencode, "chat.message", #"{"type":"chat.message"}"#) == nil)
        #expect(Runtimes.of(.opencode).acknowledgesMessages)
        let plugin = OpencodeRuntime().pluginSource(HookCommand(mosaic: "/bin/mosaic", home: "/h", agent: "a1"))
        #expect(plugin.contains(#""chat.message": async (input, output)"#) && plugin.contains(".slice(0, 512)"))
        #expect(plugin.contains(#"join("\n")"#), "a JS escape, not a line break inside a string literal")
    }

    @Test("aider: the notification command is waiting for input and reads no payload; analytics lines for busy")
    func aider() throws {
        #expect(Runtimes.of(.aider).payloadSource == .none)
        #expect(try update(.aider, "notification", "whatever the terminal holds") == .waiting("aider:notification", for: .input))
        // Lines as aider 0.86.2 writes them (measured).
        #expect(try AiderRuntime.update(forEventLine: #"{"event": "message_send_starting", "properties": {}, "user_id": "u", "time": 1795626630}"#)
                == .busy("aider:message_send_starting"))
        #expect(try AiderRuntime.update(forEventLine: #"{"event": "message_send", "properties": {"main_model": "openai/REDACTED"}, "user_id": "u", "time": 1}"#) == nil)
    }

    @Test("aider's event log is followed from where it ended, line by line, partial lines held back")
    func aiderLog() throws {
        let path = NSTemporaryDirectory() + "aider-events-\(getpid()).jsonl"
        defer { unlink(path) }
        try FileIO.writeAtomically(#"{"event": "message_send_starting", "time": 1}"# + "\n", to: path)
        let log = AiderEventLog(path: path)
        #expect(log.poll() == EventPoll(), "what was there before the sidecar started is not this run's")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"event": "message_send_starting", "ti"#.utf8))
        #expect(log.poll().updates.isEmpty, "half a line waits")
        handle.write(Data(("me\": 2}\nnot json\n" + #"{"event": "message_send", "time": 3}"# + "\n").utf8))
        handle.closeFile()
        let found = log.poll()
        #expect(found.updates == [.busy("aider:message_send_starting")])
        #expect(found.problems.count == 1 && found.problems[0].contains("skipped a line"))
    }
}
