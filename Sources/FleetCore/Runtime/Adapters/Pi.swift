import Foundation

/// pi, the coding agent of badlogic/pi-mono (now earendil-works/pi; `pi`).
///
/// Launch: `pi --extension <run>/<agent>.pi-extension.ts [--model M] [--thinking E]`.
/// pi has no command hooks; it has TypeScript extensions that subscribe to its lifecycle
/// (`pi.on("agent_start", …)`, packages/coding-agent/docs/extensions.md). mosaic writes a small
/// extension that forwards `session_start`, `input`, `agent_start` and `agent_end` to
/// `mosaic agent hook … pi <event>` as `{"type": <event>}` on stdin (`input` adds the start of
/// the submitted `text`). `--extension` loads it for this launch only; the user's `~/.pi/agent`
/// is untouched.
///
/// State: `agent_start` → busy; `agent_end` → waiting for input; `session_start` → ok; `input`
/// (the text as submitted, before the model sees it) acknowledges a `[mosaic msg=<id> …]` frame,
/// which gives `agent send --verify` a definitive `accepted`, and leaves the state as it is
/// (`input` also fires for a message queued while pi works). pi has no approval prompts of its
/// own, so it never reports waiting for approval.
///
/// Measured on pi 1.0.3 as built by the pi4py wheel (`@jamwil/pi-coding-agent`, a third-party
/// "slow fork" of `@earendil-works/pi-coding-agent`; the official build could not be installed
/// here), run by node 24: the `.ts` extension loads as given (pi compiles it itself) and lists
/// under `[Extensions]` at startup; `session_start` carries `{type, reason: "startup"}`, `input`
/// `{type, text, images, source: "interactive", streamingBehavior}`, `agent_start` `{type}`,
/// `agent_end` `{type, messages}`; `--model provider/id` and `--thinking off|minimal|low|medium|
/// high|xhigh|max` are taken; `/new` starts a new session. Its process names itself `pi`
/// (process.title). A custom OpenAI-compatible server is a provider in `<agent dir>/models.json`
/// (`~/.pi/agent`, or `PI_CODING_AGENT_DIR`), `"api": "openai-completions"`.
public struct PiRuntime: Runtime {
    // pi 1.0.3 (pi4py fork): `--append-system-prompt` takes text or a file's path; `--tools` is an
    // allowlist of tool names, lowercase (read, grep, bash). A role's Claude-style names map to
    // them: `Read` → read, `Bash(git diff:*)` → bash (pi cannot narrow a tool to some commands).
    public func persona(file: String, text: String, tools: [String]) -> PersonaDelivery {
        var names: [String] = []
        for tool in tools {
            let name = String(tool.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces).lowercased()
            if !name.isEmpty && !names.contains(name) { names.append(name) }
        }
        return .init(mechanism: .systemPromptFlag, arguments: ["--append-system-prompt", file],
                     toolArguments: names.isEmpty ? [] : ["--tools", names.joined(separator: ",")])
    }

    public var kind: RuntimeKind { .pi }
    public var binary: String? { "pi" }
    /// pi sets process.title to "pi" (measured: comm and pane_current_command `pi`, the
    /// executable node); `node` while it starts.
    public var expectedCommands: Set<String>? { ["pi", "node"] }
    public var inputShapes: [InputShape] { [.pi] }
    public var resetCommand: String? { "/new" }
    /// Its extension's `input` event sees the framed text.
    public var acknowledgesMessages: Bool { true }
    /// Since 1.0 it runs fullscreen (measured: alternate_on 1).
    public var usesAlternateScreen: Bool { true }
    public var animatesWhileBusy: Bool { true }

    public func runFiles(_ files: AgentRuntimeFiles) -> [String] { [files.piExtension] }

    public func launch(_ context: IntegrationContext) -> LaunchAdditions {
        var arguments = ["--extension", context.files.piExtension]
        if let model = context.agent.model { arguments += ["--model", model] }
        if let effort = context.agent.effort { arguments += ["--thinking", effort] }
        return LaunchAdditions(arguments: arguments,
                               files: [AgentFile(path: context.files.piExtension, contents: extensionSource(context.hook))])
    }

    /// How much of a submitted text the extension passes on: the frame is at its start, and a
    /// large paste need not travel through a hook's stdin.
    public static let inputTextLimit = 512

    /// The extension (Runtime/Plugins/pi-extension.ts). It imports nothing from pi, so it works
    /// whatever pi's package is called; the hook runs detached from pi's terminal and its failure
    /// never disturbs pi. Its handlers return nothing, so pi's `input` goes on unchanged.
    public func extensionSource(_ hook: HookCommand) -> String {
        PluginSource.piExtension.rendered(PluginSource.hookValues(hook, .pi).merging(["TEXT_LIMIT": String(Self.inputTextLimit)]) { $1 })
    }

    public func update(event: String, payload: HookPayload) -> StatusUpdate? {
        let type = payload.string("type") ?? event
        switch type {
        case "session_start": return .ok("pi:session_start")
        case "agent_start": return .busy("pi:agent_start")
        case "agent_end": return .waiting("pi:agent_end", for: .input)
        case "input":
            guard let id = MessageFrame.id(in: payload.string("text") ?? "") else { return nil }
            return StatusUpdate(status: nil, ack: id, event: "pi:input")
        default: return nil
        }
    }
}

extension AgentRuntimeFiles {
    /// The pi extension that forwards pi's lifecycle events, passed with `pi --extension`.
    public var piExtension: String { path("pi-extension.ts") }
}

extension InputShape {
    /// pi 1.0.3, measured on the pi4py wheel's build, which is `@jamwil/pi-coding-agent`, a
    /// third-party "slow fork" of `@earendil-works/pi-coding-agent` (the official build could not
    /// be installed here). Fullscreen (alternate screen) by default. The editor has no prompt
    /// glyph: it is the rows between two full-width `─` rules (dim, or coloured by the thinking
    /// level), text from column 0 on every row, a wrapped or second line included; no placeholder.
    /// The top rule carries a label when there is one: `── ⠴ Working ───` while it works (the
    /// editor stays, and takes text), `─── ↑ N more ───` (and `↓` below) when the text is taller
    /// than the box. pi draws its own cursor, a reverse-video cell (a space at the text's end), and
    /// keeps the hidden terminal cursor on it, so tmux's cursor_x/cursor_y are exact. A paste of
    /// more than 10 lines or 1000 characters shows as `[paste #N +K lines]` / `[paste #N K chars]`.
    /// Keys: C-c empties the whole editor (C-u only one logical line), but a second C-c within
    /// 500 ms quits pi: the Sender presses clear keys once, only on a draft, then waits.
    public static let pi = InputShape(
        name: "pi", prompt: "", editor: .composer, bracketedPaste: true, clearKeys: ["C-c"], commands: ["pi", "node"],
        pastePlaceholder: "\\[paste #[0-9]+(?: (?:\\+[0-9]+ lines|[0-9]+ chars))?\\]",
        boxRule: "─+(?: [^─]+ ─+)?")
}
