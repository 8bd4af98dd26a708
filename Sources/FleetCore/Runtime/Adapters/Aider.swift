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
public struct AiderIntegration: RuntimeIntegration {
    public var kind: RuntimeKind { .aider }
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
/// per line, appended by aider. A partial last line waits for its newline.
public final class AiderEventLog: RuntimeEventSource {
    public let path: String
    private var offset: off_t
    private var pending = Data()

    public init(path: String) {
        self.path = path
        var info = stat()
        offset = stat(path, &info) == 0 ? info.st_size : 0
    }

    public func poll() -> EventPoll {
        var info = stat()
        // No file yet: aider has not logged its first event.
        guard stat(path, &info) == 0 else { return EventPoll() }
        if info.st_size < offset {  // replaced or truncated: start over
            offset = 0
            pending = Data()
        }
        guard info.st_size > offset else { return EventPoll() }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return EventPoll(problems: ["\(path): cannot open: \(String(cString: strerror(errno)))"]) }
        defer { close(fd) }
        let count = Int(min(info.st_size - offset, 1 << 20))
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, offset) }
        guard n > 0 else { return EventPoll() }
        offset += off_t(n)
        pending.append(contentsOf: buffer[0..<n])
        guard let lastNewline = pending.lastIndex(of: 0x0A) else { return EventPoll() }
        let complete = pending[pending.startIndex...lastNewline]
        pending = Data(pending[pending.index(after: lastNewline)...])
        var result = EventPoll()
        for line in String(decoding: complete, as: UTF8.self).split(separator: "\n") {
            do {
                if let update = try AiderIntegration.update(forEventLine: line) { result.updates.append(update) }
            } catch {
                result.problems.append("\(path): skipped a line: \(error)")
            }
        }
        return result
    }
}
