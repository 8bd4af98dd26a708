import Foundation

/// tmux failures, classified once from stderr so callers can act on them.
public enum TmuxError: Error, Equatable, CustomStringConvertible {
    case notInstalled
    case noServer(socket: String)
    case noSuchSession(String)
    case duplicateSession(String)
    case invalidSocket(String)
    case timedOut(command: String)
    case failed(command: String, status: Int32, stderr: String)

    public var description: String {
        switch self {
        case .notInstalled:
            return "tmux is not installed or not on PATH; install it (Debian: apt-get install tmux) and retry"
        case .noServer(let socket):
            return "no tmux server is running on socket \"\(socket)\"; start the fleet with `mosaic fleet up`"
        case .noSuchSession(let name):
            return "tmux has no session \"\(name)\"; is the agent up? (`mosaic fleet ps`)"
        case .duplicateSession(let name):
            return "tmux already has a session \"\(name)\""
        case .invalidSocket(let name):
            return "refusing tmux socket name \"\(name)\": it must be a plain name (letters, digits, '-', '_') and never the user's default socket"
        case .timedOut(let command):
            return "tmux \(command) did not answer in time; the server may be hung (try `mosaic fleet verify`)"
        case .failed(let command, let status, let stderr):
            let detail = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "tmux \(command) failed (exit \(status))" + (detail.isEmpty ? "" : ": \(detail)")
        }
    }

    /// Maps a finished tmux call to an error, or nil when it succeeded.
    static func classify(_ result: ProcessResult, command: String, socket: String, target: String?) -> TmuxError? {
        if result.succeeded { return nil }
        let err = result.stderr
        if err.contains("no server running") || err.contains("error connecting to")
            || err.contains("server exited unexpectedly") {
            return .noServer(socket: socket)
        }
        if err.contains("can't find session") || err.contains("session not found") || err.contains("can't find window")
            || err.contains("can't find pane")
            // tmux 3.3a, measured: any targeted command (and `list-panes -a`) on a server that has
            // no session at all exits 1 with "no current target".
            || err.contains("no current target") {
            return .noSuchSession(target ?? "")
        }
        if err.contains("duplicate session") { return .duplicateSession(target ?? "") }
        return .failed(command: command, status: result.status, stderr: err)
    }
}
