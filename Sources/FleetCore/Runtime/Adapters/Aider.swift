import Foundation

/// aider (`aider`, a Python program; installed from PyPI as `aider-chat`).
///
/// Launch: `aider [--model M] [--reasoning-effort E]`. Its status hooks go in the session
/// environment, which aider reads as settings (`AIDER_*`, see `aider --help`), so they also
/// apply when the roster gives its own `command:`:
/// - `AIDER_NOTIFICATIONS=true`, `AIDER_NOTIFICATIONS_COMMAND=<mosaic agent hook … aider
///   notification>`: aider runs the command (through a shell, its stdin the terminal, so the
///   hook reads no payload) when it waits for the user after the model answered, or asks a
///   question during such a turn → waiting for input.
/// - `AIDER_ANALYTICS_LOG=<run>/<agent>.aider-events.jsonl`: aider appends one JSON line per
///   event to this local file (nothing is sent anywhere unless the user opted in to aider's
///   analytics); the sidecar follows it: `message_send_starting` → busy.
/// aider has no approval prompts mosaic can tell from other questions, so it never reports
/// waiting for approval. The event names are aider's own (aider/coders/base_coder.py), not a
/// documented interface: a newer aider may rename them, and then busy is not reported.
public struct AiderRuntime: Runtime {
    // aider 0.86.2: `--read FILE` adds a read-only file to the chat's context (it cannot edit it).
    // aider has no tool list.
    public func persona(file: String, text: String, tools: [String]) -> PersonaDelivery {
        .init(mechanism: .readOnlyContext, arguments: ["--read", file])
    }

    public var kind: RuntimeKind { .aider }
    public var binary: String? { "aider" }
    public var expectedCommands: Set<String>? { ["aider", "python", "python3"] }
    public var inputShapes: [InputShape] { [.aider] }
    public var resetCommand: String? { "/clear" }
    // Not animatesWhileBusy: it shows nothing while it waits for the model.

    public func runFiles(_ files: AgentRuntimeFiles) -> [String] { [files.aiderEvents] }
    public var payloadSource: HookPayloadSource { .none }

    public func launch(_ context: IntegrationContext) -> LaunchAdditions {
        var arguments: [String] = []
        if let model = context.agent.model { arguments += ["--model", model] }
        if let effort = context.agent.effort { arguments += ["--reasoning-effort", effort] }
        var environment: [(String, String)] = [
            ("AIDER_NOTIFICATIONS", "true"),
            ("AIDER_NOTIFICATIONS_COMMAND", context.hook.shellLine(.aider, "notification")),
            ("AIDER_ANALYTICS_LOG", context.files.aiderEvents),
        ]
        // What the roster sets itself wins.
        environment.removeAll { context.agent.env[$0.0] != nil }
        return LaunchAdditions(arguments: arguments, environment: environment)
    }

    public func update(event: String, payload: HookPayload) -> StatusUpdate? {
        event == "notification" ? .waiting("aider:notification", for: .input) : nil
    }

    public func eventSources(files: AgentRuntimeFiles, environment: [String: String]) -> [any RuntimeEventSource] {
        [AiderEventLog(path: environment["AIDER_ANALYTICS_LOG"].flatMap { $0.isEmpty ? nil : $0 } ?? files.aiderEvents)]
    }

    /// One line of aider's analytics log, as a state change.
    public static func update(forEventLine line: Substring) throws -> StatusUpdate? {
        switch try HookPayload.parse(Data(line.utf8)).string("event") {
        case "message_send_starting"?: return .busy("aider:message_send_starting")
        default: return nil
        }
    }
}

/// Follows aider's analytics log from where it ended when the sidecar started: one JSON object
/// per line, appended by aider.
public final class AiderEventLog: RuntimeEventSource {
    private let follower: LineFollower
    public var path: String { follower.path }

    public init(path: String) { follower = LineFollower(path: path) }

    public func poll() -> EventPoll {
        let (lines, problem) = follower.read()
        var result = EventPoll(problems: problem.map { [$0] } ?? [])
        for line in lines {
            do {
                if let update = try AiderRuntime.update(forEventLine: line) { result.updates.append(update) }
            } catch {
                result.problems.append("\(path): skipped a line: \(error)")
            }
        }
        return result
    }
}

extension AgentRuntimeFiles {
    /// aider's local analytics log (`AIDER_ANALYTICS_LOG`), which the sidecar follows.
    public var aiderEvents: String { path("aider-events.jsonl") }
}

extension InputShape {
    /// aider 0.86 (prompt_toolkit, emacs keys): `> ` at the start of the row, captured here from the
    /// real program; tmux names its pane command `python3`. C-c would be aider's interrupt (twice
    /// quits it), so a line is cleared with C-e C-u.
    public static let aider = InputShape(
        name: "aider", prompt: "> ?", editor: .promptToolkit, bracketedPaste: true, clearKeys: ["C-e", "C-u"],
        commands: ["aider", "python", "python3"])
}
