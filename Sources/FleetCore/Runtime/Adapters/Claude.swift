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
/// `SessionStart` → ok. A hook prints nothing (stdout of `UserPromptSubmit` would reach the
/// model's context) and never exits 2 (that would block the prompt).
///
/// Run for real (Claude Code 2.1.332, the binary in PyPI's claude-agent-sdk 0.2.189, against a
/// fake Messages API): hooks from `--settings` run without any prompt; SessionStart, then per
/// turn UserPromptSubmit (with `prompt` exactly as typed, frame included) and Stop; payloads
/// also carry `prompt_id`, `permission_mode` and, on Stop, `effort` and `last_assistant_message`
/// (Tests/FleetCoreTests/Fixtures/hooks). It runs as `claude` (comm and pane command) on the
/// alternate screen; the composer it draws is `InputShape.claude`.
public struct ClaudeIntegration: RuntimeIntegration {
    public var kind: RuntimeKind { .claude }

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
            return StatusUpdate(status: .busy, ack: StubAgent.messageId(in: payload.string("prompt") ?? ""), event: tag)
        case "PostToolUse", "PreToolUse": return .busy(tag)
        case "Stop": return .waiting(tag, for: .input)
        case "PermissionRequest": return .waiting(tag, for: .approval)
        case "Notification": return Self.notification(payload, tag: tag)
        default: return nil
        }
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
