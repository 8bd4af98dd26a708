import Foundation

/// One pane as `list-panes -a` reports it.
public struct PaneInfo: Sendable, Equatable, Codable {
    public var sessionName: String
    public var windowIndex: Int
    public var paneId: String
    public var pid: Int32?
    public var dead: Bool
    public var deadStatus: Int32?
    /// The signal that ended the pane's process, when one did (`pane_dead_signal`, tmux 3.3).
    public var deadSignal: Int32?
    /// Seconds since the epoch of the window's last activity (tmux 3.3 has no pane_activity).
    public var windowActivity: Int?
    public var inMode: Bool
    public var width: Int
    public var height: Int
    public var currentCommand: String

    public init(sessionName: String, windowIndex: Int = 0, paneId: String, pid: Int32?, dead: Bool = false,
                deadStatus: Int32? = nil, deadSignal: Int32? = nil, windowActivity: Int? = nil, inMode: Bool = false, width: Int = 80,
                height: Int = 24, currentCommand: String) {
        self.sessionName = sessionName
        self.windowIndex = windowIndex
        self.paneId = paneId
        self.pid = pid
        self.dead = dead
        self.deadStatus = deadStatus
        self.deadSignal = deadSignal
        self.windowActivity = windowActivity
        self.inMode = inMode
        self.width = width
        self.height = height
        self.currentCommand = currentCommand
    }
}

/// The `-F` format for panes: fields declared once, tab-separated, free text last.
public enum PaneFormat {
    static let fields = [
        "session_name", "window_index", "pane_id", "pane_pid", "pane_dead", "pane_dead_status", "pane_dead_signal",
        "window_activity", "pane_in_mode", "pane_width", "pane_height", "pane_current_command",
    ]
    public static let format = fields.map { "#{\($0)}" }.joined(separator: "\t")

    /// Parses `list-panes -a -F format` output; malformed lines are skipped, never guessed.
    public static func parse(_ output: String) -> [PaneInfo] {
        output.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            let f = line.split(separator: "\t", maxSplits: fields.count - 1, omittingEmptySubsequences: false)
            guard f.count == fields.count else { return nil }
            return PaneInfo(
                sessionName: String(f[0]), windowIndex: Int(f[1]) ?? 0, paneId: String(f[2]),
                pid: Int32(f[3]), dead: f[4] == "1", deadStatus: Int32(f[5]), deadSignal: Int32(f[6]), windowActivity: Int(f[7]),
                inMode: f[8] == "1", width: Int(f[9]) ?? 0, height: Int(f[10]) ?? 0, currentCommand: String(f[11]))
        }
    }

    /// The last `count` non-empty lines a dead pane shows, without the line tmux adds itself
    /// (`Pane is dead (status 2, …)`): what the runtime last said.
    public static func lastOutput(_ capture: String, count: Int = 3) -> [String] {
        let lines = capture.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !($0.hasPrefix("Pane is dead (") && $0.hasSuffix(")")) }
        return lines.suffix(count).map { String($0.prefix(200)) }
    }

    /// `SIGKILL` for 9: the names people read (Linux numbering), else the number.
    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
                                      9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"]
        return names[signal] ?? "signal \(signal)"
    }
}
