import Foundation

/// Claude Code (`claude`).
///
/// Launch: `claude --settings <run>/<agent>.claude-settings.json [--model M] [--effort E]`.
/// `--settings` loads an extra settings file on top of the user's own (hooks from every source
/// run), so the user's `~/.claude/settings.json` is never touched; the file is removed at down.
///
/// State, from its hooks (JSON on stdin; https://docs.anthropic.com/en/docs/claude-code/hooks):
/// `UserPromptSubmit` and `PostToolUse` → busy; `Stop` → waiting for input; `Notification`
/// with `notification_type` `permission_prompt` → waiting for approval, `idle_prompt` or
/// `elicitation_dialog` → waiting for input; `PermissionRequest` → waiting for approval;
/// `SessionStart` → ok. No hook runs when the operator interrupts a turn (Esc while it works) or
/// declines a permission prompt (measured, 2.1.332: after `PermissionRequest`, nothing; the turn
/// just ends), so the last report would stand, busy or waiting for approval, at an idle prompt.
/// Claude Code writes the interruption to its transcript (`[Request interrupted by user…]`), whose
/// path every hook payload carries (`transcript_path`): the hooks keep that path in
/// `<run>/<agent>.claude-transcript`, and the sidecar follows the transcript for interruptions
/// (`ClaudeTranscriptWatch`). A hook prints nothing (stdout of `UserPromptSubmit` would reach the
/// model's context) and never exits 2 (that would block the prompt).
///
/// Run for real (Claude Code 2.1.332, the binary in PyPI's claude-agent-sdk 0.2.189, against a
/// fake Messages API): hooks from `--settings` run without any prompt; SessionStart, then per
/// turn UserPromptSubmit (with `prompt` exactly as typed, frame included) and Stop; payloads
/// also carry `prompt_id`, `permission_mode` and, on Stop, `effort` and `last_assistant_message`
/// (Tests/FleetCoreTests/Fixtures/hooks). It runs as `claude` (comm and pane command) on the
/// alternate screen; the composer it draws is `InputShape.claude`.
public struct ClaudeRuntime: Runtime {
    // Claude Code 2.1.332: `--append-system-prompt-file` keeps its own system prompt and adds
    // ours; `--allowed-tools` takes the role's tool list (rules such as `Bash(git diff:*)`).
    public func persona(file: String, text: String, tools: [String]) -> PersonaDelivery {
        .init(mechanism: .systemPromptFlag, arguments: ["--append-system-prompt-file", file],
              toolArguments: tools.isEmpty ? [] : ["--allowed-tools", tools.joined(separator: ",")])
    }

    public var kind: RuntimeKind { .claude }
    /// The binary is a single executable (comm `claude`); an npm install runs as `node`.
    public var binary: String? { "claude" }
    public var expectedCommands: Set<String>? { ["claude", "node"] }
    public var inputShapes: [InputShape] { [.claude] }
    public var resetCommand: String? { "/clear" }
    /// Its UserPromptSubmit hook sees the framed prompt.
    public var acknowledgesMessages: Bool { true }
    /// Since 2.1 (measured: alternate_on 1).
    public var usesAlternateScreen: Bool { true }
    /// Measured: window activity never older than a second over an 8 s turn.
    public var animatesWhileBusy: Bool { true }

    public func runFiles(_ files: AgentRuntimeFiles) -> [String] { [files.claudeSettings, files.claudeTranscript] }

    /// The hook events mosaic registers. `PreToolUse` is left out on purpose: it runs before
    /// every tool call and adds nothing `UserPromptSubmit` has not said already.
    public static let hookEvents = ["SessionStart", "UserPromptSubmit", "PostToolUse", "Notification", "PermissionRequest", "Stop"]

    public func launch(_ context: IntegrationContext) -> LaunchAdditions {
        var arguments = ["--settings", context.files.claudeSettings]
        if let model = context.agent.model { arguments += ["--model", model] }
        if let effort = context.agent.effort { arguments += ["--effort", effort] }
        return LaunchAdditions(arguments: arguments,
                               files: [AgentFile(path: context.files.claudeSettings, contents: settings(context.hook))])
    }

    /// The settings file: only hooks, each running `mosaic agent hook … claude <Event>`.
    public func settings(_ hook: HookCommand) -> String {
        let events: [(String, JSON)] = Self.hookEvents.map { event in
            var group: [(String, JSON)] = []
            // Tool events take a matcher; "*" is every tool.
            if event == "PostToolUse" || event == "PermissionRequest" { group.append(("matcher", .string("*"))) }
            group.append(("hooks", .array([.object([("type", .string("command")),
                                                    ("command", .string(hook.shellLine(.claude, event))),
                                                    ("timeout", .int(10))])])))
            return (event, .array([.object(group)]))
        }
        return JSON.object([("hooks", .object(events))]).rendered() + "\n"
    }

    public func update(event: String, payload: HookPayload) -> StatusUpdate? {
        let name = payload.string("hook_event_name") ?? event
        let tag = "claude:\(name)"
        switch name {
        case "SessionStart": return .ok(tag)
        // The prompt as submitted: a `[mosaic msg=<id> …]` frame in it is acknowledged, which
        // gives `agent send --verify` a definitive `accepted`.
        case "UserPromptSubmit":
            return StatusUpdate(status: .busy, ack: MessageFrame.id(in: payload.string("prompt") ?? ""), event: tag)
        case "PostToolUse", "PreToolUse": return .busy(tag)
        case "Stop": return .waiting(tag, for: .input)
        case "PermissionRequest": return .waiting(tag, for: .approval)
        case "Notification": return Self.notification(payload, tag: tag)
        default: return nil
        }
    }

    /// The transcript's path, from any hook's payload, for the sidecar's `ClaudeTranscriptWatch`.
    public func remember(event: String, payload: HookPayload, files: AgentRuntimeFiles) -> [AgentFile] {
        guard let path = payload.string("transcript_path"), path.hasPrefix("/"), !path.contains("\n") else { return [] }
        return [AgentFile(path: files.claudeTranscript, contents: path + "\n")]
    }

    public func eventSources(files: AgentRuntimeFiles, environment: [String: String]) -> [any RuntimeEventSource] {
        [ClaudeTranscriptWatch(pointer: files.claudeTranscript, states: RuntimeStateStore(directory: files.runDirectory), agent: files.agent)]
    }

    /// One line of Claude Code's transcript (JSONL): an interruption by the operator (Esc while it
    /// works, or a declined permission prompt) ends the turn, so it waits for input. Measured, 2.1.332:
    /// `{"type":"user","message":{"role":"user","content":[{"type":"text","text":"[Request
    /// interrupted by user for tool use]"}]},"timestamp":"2026-…Z",…}` (`[Request interrupted by
    /// user]` while it answers). Returns the change and when it happened.
    public static func update(forTranscriptLine line: Substring) throws -> (update: StatusUpdate, at: Date?)? {
        // Cheap test first: transcripts are long, interruptions rare.
        guard line.contains("[Request interrupted by user") else { return nil }
        let entry = try HookPayload.parse(Data(line.utf8))
        guard entry.string("type") == "user", let message = entry.object("message") else { return nil }
        let interrupted = message.texts().contains { $0.hasPrefix("[Request interrupted by user") }
        guard interrupted else { return nil }
        return (.waiting("claude:interrupted", for: .input), entry.string("timestamp").flatMap(Timestamp.parse))
    }

    /// `notification_type` where Claude Code sends it; older versions send only `message`
    /// ("Claude needs your permission to use Bash", "Claude is waiting for your input").
    static func notification(_ payload: HookPayload, tag: String) -> StatusUpdate? {
        switch payload.string("notification_type") {
        case "permission_prompt"?: return .waiting(tag, for: .approval)
        case "idle_prompt"?, "elicitation_dialog"?: return .waiting(tag, for: .input)
        case .some: return nil
        case nil:
            let message = payload.string("message")?.lowercased() ?? ""
            if message.contains("permission") { return .waiting(tag, for: .approval) }
            if message.contains("waiting for your input") { return .waiting(tag, for: .input) }
            return nil
        }
    }
}

/// Follows Claude Code's transcript for what no hook reports: the operator interrupting a turn
/// or declining a permission prompt. Which transcript: the one named in `pointer`, which the hooks
/// keep (a new session, after `/clear`, has a new one); it is read from where it ended when the
/// path was learnt. An interruption older than the state's last report (the next prompt's hook
/// came first) is old news and is dropped. Looks every `every`.
public final class ClaudeTranscriptWatch: RuntimeEventSource {
    let pointer: String
    let states: RuntimeStateStore
    let agent: String
    let every: Duration
    private let clock = ContinuousClock()
    private var next: ContinuousClock.Instant
    private var follower: LineFollower?

    public init(pointer: String, states: RuntimeStateStore, agent: String, every: Duration = .milliseconds(250)) {
        self.pointer = pointer
        self.states = states
        self.agent = agent
        self.every = every
        next = clock.now
    }

    public func poll() -> EventPoll {
        guard clock.now >= next else { return EventPoll() }
        next = clock.now + every
        let path = FileIO.readSmall(pointer, limit: 4096)?.trimmingCharacters(in: .whitespacesAndNewlines)
        if path != follower?.path { follower = path.map(LineFollower.init) }
        guard let follower else { return EventPoll() }
        let (lines, problem) = follower.read()
        var result = EventPoll(problems: problem.map { [$0] } ?? [])
        for line in lines {
            do {
                guard let (update, at) = try ClaudeRuntime.update(forTranscriptLine: line) else { continue }
                if let at, let last = states.read(agent)?.ts, last > at { continue }
                result.updates.append(update)
            } catch {
                result.problems.append("\(follower.path): skipped a line: \(error)")
            }
        }
        return result
    }
}

extension AgentRuntimeFiles {
    /// Per-agent Claude Code settings (hooks), passed with `claude --settings`.
    public var claudeSettings: String { path("claude-settings.json") }
    /// The path of Claude Code's transcript of the current session, as its hooks last saw it.
    public var claudeTranscript: String { path("claude-transcript") }
}

extension InputShape {
    /// Claude Code 2.1 (captured here from the real program, 2.1.332): a composer between two
    /// horizontal rules on the alternate screen, `❯` and a no-break space (U+00A0) at column 0, later rows (a second line, a
    /// wrapped one) indented by two spaces; the terminal cursor sits where the text ends. The
    /// prompt stays while it works: a message typed then waits for the turn's end. A paste of
    /// many lines or characters shows as `[Pasted text #N +K lines]` until submitted. Measured
    /// keys: C-u kills one row only, Escape Escape empties the whole composer (on an empty one it
    /// would open the rewind menu, but clear keys are only pressed on a draft).
    public static let claude = InputShape(
        name: "claude", prompt: "❯[\\u00A0 ]?", continuation: "  ", editor: .composer, bracketedPaste: true,
        clearKeys: ["Escape", "Escape"], commands: ["claude", "node"],
        pastePlaceholder: "\\[Pasted text #[0-9]+(?: \\+[0-9]+ lines)?\\]")
}
