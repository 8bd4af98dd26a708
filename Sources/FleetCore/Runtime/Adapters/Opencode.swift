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
public struct OpencodeIntegration: RuntimeIntegration {
    public var kind: RuntimeKind { .opencode }

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

    public func pluginSource(_ hook: HookCommand) -> String {
        let base = JSON.array(hook.argv(.opencode, "EVENT").dropLast().map(JSON.string)).rendered(pretty: false)
        let events = JSON.array(Self.forwardedEvents.map(JSON.string)).rendered(pretty: false)
        return """
        // Written by mosaic for agent \(hook.agent); removed by `mosaic fleet down`. Do not edit.
        // Forwards opencode's session and permission events to `mosaic agent hook`.
        import { spawn } from "node:child_process";

        const hook = \(base);
        const forwarded = new Set(\(events));

        function report(event) {
          try {
            const status = event.properties && event.properties.status;
            const payload = { type: event.type, properties: status && status.type ? { status: { type: status.type } } : {} };
            const child = spawn(hook[0], [...hook.slice(1), event.type], { stdio: ["pipe", "ignore", "ignore"] });
            child.on("error", () => {});
            child.stdin.on("error", () => {});
            child.stdin.end(JSON.stringify(payload));
          } catch (error) {
            // A status report must never break the agent.
          }
        }

        function acknowledge(parts) {
          try {
            const text = (Array.isArray(parts) ? parts : [])
              .filter((part) => part && part.type === "text" && typeof part.text === "string")
              .map((part) => part.text).join("\\n").slice(0, \(Self.messageTextLimit));
            if (!text.includes("[mosaic msg=")) return;
            const child = spawn(hook[0], [...hook.slice(1), "chat.message"], { stdio: ["pipe", "ignore", "ignore"] });
            child.on("error", () => {});
            child.stdin.on("error", () => {});
            child.stdin.end(JSON.stringify({ type: "chat.message", text }));
          } catch (error) {
            // An acknowledgement must never break the agent.
          }
        }

        export const MosaicStatus = async () => ({
          event: async ({ event }) => {
            if (event && forwarded.has(event.type)) report(event);
          },
          "chat.message": async (input, output) => {
            acknowledge(output && output.parts);
          },
        });

        """
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
            guard let id = StubAgent.messageId(in: payload.string("text") ?? "") else { return nil }
            return StatusUpdate(status: nil, ack: id, event: tag)
        default: return nil
        }
    }
}
