import Foundation

/// OpenAI Codex CLI (`codex`).
///
/// Launch: `codex -c 'notify=["<mosaic>", "agent", "hook", …, "codex", "notify"]'
/// [-m M] [-c model_reasoning_effort="E"]`. A `-c` override holds for this launch only; it
/// replaces a `notify` the user configured for the same launch (their config file is untouched).
///
/// State, from `notify`: Codex runs the program after each turn with one JSON argument appended,
/// `{"type":"agent-turn-complete","thread-id":…,"turn-id":…,"cwd":…,"input-messages":[…],
/// "last-assistant-message":…}` → waiting for input. Codex's notify has no event for the start
/// of a turn, so busy is not reported: a codex agent reads `waiting` from the end of one turn
/// until the end of the next. (Its lifecycle hooks could say more, but hooks passed with `-c`
/// run only once trusted, so mosaic does not rely on them.)
public struct CodexIntegration: RuntimeIntegration {
    public var kind: RuntimeKind { .codex }
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
        case "agent-turn-complete"?: return .waiting("codex:agent-turn-complete", for: .input)
        // Sent by some Codex versions when a command needs approval.
        case "approval-requested"?: return .waiting("codex:approval-requested", for: .approval)
        default: return nil
        }
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
