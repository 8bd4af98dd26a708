import Foundation

/// One pane as `list-panes -a` reports it.
public struct PaneInfo: Sendable, Equatable, Codable {
    public var sessionName: String
    public var windowIndex: Int
    public var paneId: String
    public var pid: Int32?
    public var dead: Bool
    public var deadStatus: Int32?
    /// Seconds since the epoch of the window's last activity (tmux 3.3 has no pane_activity).
    public var windowActivity: Int?
    public var inMode: Bool
    public var width: Int
    public var height: Int
    public var currentCommand: String

    public init(sessionName: String, windowIndex: Int = 0, paneId: String, pid: Int32?, dead: Bool = false,
                deadStatus: Int32? = nil, windowActivity: Int? = nil, inMode: Bool = false, width: Int = 80,
                height: Int = 24, currentCommand: String) {
        self.sessionName = sessionName
        self.windowIndex = windowIndex
        self.paneId = paneId
        self.pid = pid
        self.dead = dead
        self.deadStatus = deadStatus
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
        "session_name", "window_index", "pane_id", "pane_pid", "pane_dead", "pane_dead_status",
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
                pid: Int32(f[3]), dead: f[4] == "1", deadStatus: Int32(f[5]), windowActivity: Int(f[6]),
                inMode: f[7] == "1", width: Int(f[8]) ?? 0, height: Int(f[9]) ?? 0, currentCommand: String(f[10]))
        }
    }
}
