import Foundation

/// OpenAI Codex CLI (`codex`). Measured with codex-cli 0.163.0, the static binary of OpenAI's
/// `openai-codex-cli-bin` wheel, in tmux 3.3a against a fake Responses API (see CodexTests).
///
/// Launch: `codex -c 'notify=["<mosaic>", "agent", "hook", …, "codex", "notify"]'
/// [-m M] [-c model_reasoning_effort="E"]`. A `-c` override holds for this launch only; it
/// replaces a `notify` the user configured for the same launch (their config file is untouched).
/// `-m` and the effort reach the model request (`model`, `reasoning.effort`) and show in codex's
/// footer (`fake-model low`). Any `-c` also keeps codex in the pane's own process: it warns at
/// startup "Running without the shared background server: command-line configuration overrides
/// … requires embedded mode" instead of using its shared app-server daemon.
///
/// Process: `/proc/<pid>/comm` and tmux's `pane_current_command` are both `codex` (the wheel's
/// `bin/codex` is a symlink to a binary itself named `codex`); npm's launcher runs as `node`.
/// Its TUI runs on the alternate screen; its composer is `InputShape.codex`. `/new` starts a new
/// chat (the reset command).
///
/// State:
/// - `notify`: codex runs the program with one JSON argument appended after each finished turn,
///   `{"type":"agent-turn-complete","thread-id":…,"turn-id":…,"cwd":…,"client":"codex-tui",
///   "input-messages":[…],"last-assistant-message":…}` → waiting for input. It is the only type
///   notify carries ("approval-requested" is a type of the TUI's own desktop notifications, which
///   go to the terminal, not to notify). Codex also names a new conversation with a model turn of
///   its own, on a thread of its own, which ends with a notify call too; an interrupted turn (Esc)
///   ends with none.
/// - The terminal title (`CodexTitleWatch`, which the sidecar runs): codex's default title starts
///   with a spinner while a turn runs → busy; its end → waiting for input. Notify has no
///   start-of-turn event, and codex's lifecycle hooks run only once trusted (or with
///   `--dangerously-bypass-hook-trust`), so mosaic does not rely on them.
public struct CodexRuntime: Runtime {
    // Codex 0.163: `developer_instructions` is a config key (a developer message before the
    // conversation, AGENTS.md still read); `-c` parses the value as TOML. Codex restricts tools by
    // sandbox, not by name: nothing to add.
    public func persona(file: String, text: String, tools: [String]) -> PersonaDelivery {
        .init(mechanism: .developerInstructions, arguments: ["-c", "developer_instructions=" + PersonaDelivery.tomlString(text)])
    }

    public var kind: RuntimeKind { .codex }
    public var binary: String? { "codex" }
    /// The native binary's comm and pane command are `codex`, npm's launcher is `node`.
    public var expectedCommands: Set<String>? { ["codex", "node"] }
    public var inputShapes: [InputShape] { [.codex] }
    public var resetCommand: String? { "/new" }
    /// Measured, 0.163.
    public var usesAlternateScreen: Bool { true }
    /// Its spinner turns while it works (measured).
    public var animatesWhileBusy: Bool { true }
    public var payloadSource: HookPayloadSource { .lastArgument }

    public func launch(_ context: IntegrationContext) -> LaunchAdditions {
        let notify = "notify=[" + context.hook.argv(.codex, "notify").map(Self.tomlString).joined(separator: ", ") + "]"
        var arguments = ["-c", notify]
        if let model = context.agent.model { arguments += ["-m", model] }
        if let effort = context.agent.effort { arguments += ["-c", "model_reasoning_effort=\(Self.tomlString(effort))"] }
        return LaunchAdditions(arguments: arguments)
    }

    public func update(event: String, payload: HookPayload) -> StatusUpdate? {
        switch payload.string("type") {
        // While an approval prompt is open the main turn cannot complete: a completion then is
        // another thread's (codex names a new conversation with a turn of its own).
        case "agent-turn-complete"?: return StatusUpdate.waiting("codex:agent-turn-complete", for: .input).yieldingToApproval()
        default: return nil
        }
    }

    /// Codex's terminal title, read from the agent's pane: the sidecar runs in the pane's
    /// environment, which names the tmux socket (MOSAIC_TMUX_SOCKET) and the pane (TMUX_PANE).
    public func eventSources(files: AgentRuntimeFiles, environment: [String: String]) -> [any RuntimeEventSource] {
        guard let name = environment["MOSAIC_TMUX_SOCKET"], let socket = try? TmuxSocket(name),
              let pane = environment["TMUX_PANE"], pane.hasPrefix("%") else { return [] }
        let host = LocalHost()
        let title = Tmux(socket: socket, configFile: nil, runner: host, timeout: .seconds(2))
            .invocation(["display-message", "-p", "-t", pane, "#{pane_title}"])
        return [CodexTitleWatch(states: RuntimeStateStore(directory: files.runDirectory), agent: files.agent) {
            guard let result = try? host.runBlocking(title), result.status == 0 else { return nil }
            return result.stdout.trimmingCharacters(in: .newlines)
        }]
    }

    /// A TOML basic string: `-c` values are parsed as TOML.
    static func tomlString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Follows the terminal title codex sets (OSC 0), which tmux keeps as the pane's title: by
/// default codex puts its `activity` item first, a braille spinner frame while a turn runs
/// (measured, 0.163: `⠴ ⠴ | work` busy, `work` idle, `work` being the project's name). This is
/// codex's only signal of a turn's start that needs no trusted hooks. Read every `every`, one
/// `tmux display-message` each time.
/// - A spinner → busy; also when another report (a late notify of codex's conversation-naming
///   turn) has said otherwise for `overrule` seconds while the spinner kept turning.
/// - `Action Required` → waiting for approval. Measured, 0.163: while it asks to run a command
///   the title blinks `[ . ] Action Required | work` / `[ ! ] Action Required | work` (the first
///   frame still carries a spinner after it); declined (Esc), it goes back to `work`.
/// - Anything else after one of those → the turn is over: waiting for input (notify says so too,
///   but not after an interrupted turn).
/// A user config whose `tui.terminal_title` leaves out `activity` (or `spinner`), or that turns
/// animations off, leaves no spinner: then only notify reports, as before.
public final class CodexTitleWatch: RuntimeEventSource {
    enum Activity: Equatable { case working, actionRequired, idle }

    let states: RuntimeStateStore
    let agent: String
    let read: () -> String?
    let every: Duration
    /// How old another report must be before a turning spinner overrules it.
    let overrule: TimeInterval
    private let clock = ContinuousClock()
    private var next: ContinuousClock.Instant
    private var last: Activity?
    private var unreadable = false

    public init(states: RuntimeStateStore, agent: String, every: Duration = .milliseconds(250), overrule: TimeInterval = 1,
                read: @escaping () -> String?) {
        self.states = states
        self.agent = agent
        self.every = every
        self.overrule = overrule
        self.read = read
        next = clock.now
    }

    private var busy: EventPoll { EventPoll(updates: [.busy("codex:title-working")]) }

        static func activity(_ title: String) -> Activity {
        if let first = title.unicodeScalars.first, (0x2800...0x28FF).contains(first.value) { return .working }
        return title.contains("Action Required") ? .actionRequired : .idle
    }

    public func poll() -> EventPoll {
        guard clock.now >= next else { return EventPoll() }
        next = clock.now + every
        guard let title = read() else {
            defer { unreadable = true }
            return unreadable ? EventPoll() : EventPoll(problems: ["cannot read codex's pane title from tmux"])
        }
        unreadable = false
        let now = Self.activity(title)
        defer { last = now }
        let status = states.read(agent)
        switch now {
        case .working:
            guard let status else { return busy }
            if status.status == .busy { return EventPoll() }
            // A report from elsewhere while the spinner turns: at a turn's end notify comes a moment
            // before the title goes idle, so only a report that has stood for a while is overruled.
            return last != .working || Date().timeIntervalSince(status.ts) >= overrule ? busy : EventPoll()
        case .actionRequired:
            return last == .actionRequired && status?.waitingFor == .approval ? EventPoll()
                : EventPoll(updates: [.waiting("codex:title-action-required", for: .approval)])
        case .idle:
            guard let last, last != .idle else { return EventPoll() }
            return EventPoll(updates: [.waiting("codex:title-idle", for: .input)])
        }
    }
}

extension InputShape {
    /// Codex CLI 0.163 (its own Rust TUI, on the alternate screen), captured here from the real
    /// program: the composer row starts with a bold `›` and a space; an empty composer shows a
    /// dim placeholder ("Ask Codex to do anything", ghost text); wrapped and continued rows of a
    /// draft are indented two spaces; the composer stays on screen, empty or with a draft, while
    /// a turn runs. Enter submits (while a turn runs it queues the message for that turn); a
    /// bracketed paste keeps its newlines. C-u kills back to the start of the line, and at a
    /// line's start the newline before it; C-k forward likewise: enough of both empty a draft
    /// wherever the cursor is, and do nothing to an empty composer. Not C-c: it does empty the
    /// composer, but on an empty one it interrupts a running turn (or offers to quit), so a
    /// draft submitted just before the key would cost the agent its turn.
    /// Codex takes fast unbracketed typing (`send-keys -l`) for a paste: an Enter 0-10 ms after the
    /// keys became a newline in the draft, 30 ms and later submitted (measured). `agent send`
    /// presses Enter only once the text shows, which was late enough in the tests; the pause
    /// covers the 120 ms window that codex's paste-burst code has used. A bracketed paste of
    /// more than 1000 characters shows as `[Pasted Content N chars]` (N counted in characters), not
    /// as its text; Enter sends the text. While codex starts (its header says "loading", its
    /// footer has no model line yet) the composer already shows, and Enter keeps the message in it
    /// ("Waiting for startup") until codex has started: `send --verify` may then find it sitting.
    /// tmux names its pane command `codex` (the native binary); `node` is npm's launcher.
    public static let codex = InputShape(
        name: "codex", prompt: "› ?", continuation: "  ", editor: .composer, bracketedPaste: true,
        clearKeys: Array(repeating: "C-k", count: codexClearPresses) + Array(repeating: "C-u", count: codexClearPresses),
        commands: ["codex", "node"], submitPause: .milliseconds(150), pastePlaceholder: "\\[Pasted Content ([0-9]+) chars\\]")

    /// Each press of C-k or C-u removes one line's text or one newline: this many of each empty a
    /// draft of up to 16 lines.
    static let codexClearPresses = 32
}
