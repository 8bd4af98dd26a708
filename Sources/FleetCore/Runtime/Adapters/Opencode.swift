import Foundation

/// opencode (`opencode`).
///
/// Launch: `opencode [--model provider/model]`, with `OPENCODE_CONFIG_DIR=<run>/<agent>.opencode`
/// in the session: opencode searches that directory like a `.opencode` directory, so the plugin
/// mosaic writes there (`plugins/mosaic-status.js`) loads for this agent only. A roster `env:`
/// that sets `OPENCODE_CONFIG_DIR` itself wins (and then opencode reports no state). The TUI has
/// no effort flag (`--variant` exists only for `opencode run`), so `effort` is shown, not passed.
///
/// State, from opencode's event bus (plugin `event` hook, `{type, properties}`):
/// `session.status` with `status.type` `busy`/`retry` → busy, `idle` → waiting for input;
/// `session.idle` → waiting for input; `permission.updated` / `permission.asked` → waiting for
/// approval; `permission.replied` → busy. The plugin forwards only these, as
/// `{"type": …, "properties": {"status": {"type": …}}}` on stdin.
///
/// Acknowledgement: the plugin's `chat.message` hook (`(input: {sessionID, agent?, model?,
/// messageID?, variant?}, output: {message: UserMessage, parts: Part[]})`, "called when a new
/// message is received", in opencode's plugin package) sees a submitted prompt's parts; the
/// plugin passes the start of its text parts as `{"type": "chat.message", "text": …}`, and a
/// `[mosaic msg=<id> …]` frame in it acknowledges the message, as Claude Code's
/// UserPromptSubmit does. Read from opencode's plugin types, not run: no build of opencode could
/// be installed here (see README).
public struct OpencodeRuntime: Runtime {
    // opencode (simulated here): `OPENCODE_CONFIG_CONTENT` is inline config merged last; its
    // `instructions` array names files added to the system prompt. It leaves the
    // `OPENCODE_CONFIG_DIR` mosaic sets for its plugin alone.
    public func persona(file: String, text: String, tools: [String]) -> PersonaDelivery {
        let json = JSON.object([("instructions", .array([.string(file)]))]).rendered(pretty: false)
        return .init(mechanism: .instructionsConfig, environment: [("OPENCODE_CONFIG_CONTENT", json)])
    }

    public var kind: RuntimeKind { .opencode }
    public var binary: String? { "opencode" }
    public var expectedCommands: Set<String>? { ["opencode", "node", "bun"] }
    /// Its input box was never captured from the real program here (no build of it could be
    /// installed): no guessing.
    public var inputShapes: [InputShape] { [] }
    public var resetCommand: String? { "/new" }
    /// Its plugin's `chat.message` hook sees the framed prompt.
    public var acknowledgesMessages: Bool { true }

    public func runFiles(_ files: AgentRuntimeFiles) -> [String] { [files.opencodePlugin] }

    public static let forwardedEvents = ["session.status", "session.idle", "permission.updated", "permission.asked", "permission.replied"]

    /// How much of a submitted prompt's text the plugin passes on: the frame is at its start.
    public static let messageTextLimit = 512

    public func launch(_ context: IntegrationContext) -> LaunchAdditions {
        var arguments: [String] = []
        if let model = context.agent.model { arguments += ["--model", model] }
        guard context.agent.env["OPENCODE_CONFIG_DIR"] == nil else { return LaunchAdditions(arguments: arguments) }
        return LaunchAdditions(arguments: arguments,
                               environment: [("OPENCODE_CONFIG_DIR", context.files.opencodeConfigDirectory)],
                               files: [AgentFile(path: context.files.opencodePlugin, contents: pluginSource(context.hook))])
    }

    /// The plugin (Runtime/Plugins/opencode-status.js); it passes on only a prompt that holds a
    /// message frame.
    public func pluginSource(_ hook: HookCommand) -> String {
        PluginSource.opencodeStatus.rendered(PluginSource.hookValues(hook, .opencode).merging([
            "FORWARDED_EVENTS": JSON.array(Self.forwardedEvents.map(JSON.string)).rendered(pretty: false),
            "TEXT_LIMIT": String(Self.messageTextLimit),
            "FRAME_OPENING": JSON.string(MessageFrame.opening).rendered(pretty: false),
        ]) { $1 })
    }

    public func update(event: String, payload: HookPayload) -> StatusUpdate? {
        let type = payload.string("type") ?? event
        let tag = "opencode:\(type)"
        switch type {
        case "session.status":
            switch payload.object("properties")?.object("status")?.string("type") {
            case "busy"?, "retry"?: return .busy(tag)
            case "idle"?: return .waiting(tag, for: .input)
            default: return nil
            }
        case "session.idle": return .waiting(tag, for: .input)
        case "permission.updated", "permission.asked": return .waiting(tag, for: .approval)
        case "permission.replied": return .busy(tag)
        case "chat.message":
            guard let id = MessageFrame.id(in: payload.string("text") ?? "") else { return nil }
            return StatusUpdate(status: nil, ack: id, event: tag)
        default: return nil
        }
    }
}

extension AgentRuntimeFiles {
    /// The opencode config directory (`OPENCODE_CONFIG_DIR`) holding mosaic's status plugin.
    public var opencodeConfigDirectory: String { path("opencode") }
    public var opencodePlugin: String { "\(opencodeConfigDirectory)/plugins/mosaic-status.js" }
}
