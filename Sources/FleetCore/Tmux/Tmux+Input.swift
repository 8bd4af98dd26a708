import Foundation

/// One agent pane as `send`, `reset` and `tail` see it: state, cursor and the screen with colours.
public struct PaneSnapshot: Sendable, Equatable {
    public var paneId: String
    public var dead: Bool
    public var inMode: Bool
    public var alternateOn: Bool
    public var cursorX: Int
    public var cursorY: Int
    public var width: Int
    public var height: Int
    public var currentCommand: String
    /// `capture-pane -p -e` of the visible screen (rows keep their positions: no `-J`).
    public var capture: String

    public var screen: Screen { Screen.parse(capture) }
}

/// The `-F` format of a snapshot's first line: declared once, tab-separated, free text last.
enum SnapshotFormat {
    static let fields = ["pane_id", "pane_dead", "pane_in_mode", "alternate_on", "cursor_x", "cursor_y",
                         "pane_width", "pane_height", "pane_current_command"]
    static let format = fields.map { "#{\($0)}" }.joined(separator: "\t")

    static func parse(_ output: String) -> PaneSnapshot? {
        guard let newline = output.firstIndex(of: "\n") else { return nil }
        let f = output[..<newline].split(separator: "\t", maxSplits: fields.count - 1, omittingEmptySubsequences: false)
        guard f.count == fields.count, f[0].hasPrefix("%"), let x = Int(f[4]), let y = Int(f[5]),
              let w = Int(f[6]), let h = Int(f[7]) else { return nil }
        return PaneSnapshot(paneId: String(f[0]), dead: f[1] == "1", inMode: f[2] == "1", alternateOn: f[3] == "1",
                            cursorX: x, cursorY: y, width: w, height: h, currentCommand: String(f[8]),
                            capture: String(output[output.index(after: newline)...]))
    }
}

/// Typing into panes. Each call is bounded by the client's timeout; targets are exact.
extension Tmux {
    /// The agent's pane and screen in one tmux call (`list-panes` then `capture-pane`).
    public static func snapshotCommand(agent: String) -> [String] {
        ["list-panes", "-t", "=\(agent):", "-F", SnapshotFormat.format, ";", "capture-pane", "-p", "-e", "-t", "=\(agent):"]
    }

    public func snapshot(agent: String) async throws -> PaneSnapshot {
        let output = try await run(Self.snapshotCommand(agent: agent), target: agent).stdout
        guard let snapshot = SnapshotFormat.parse(output) else {
            throw TmuxError.failed(command: "list-panes", status: 0, stderr: "unexpected output for agent \(agent): \(output.prefix(200))")
        }
        return snapshot
    }

    /// Leaves copy mode (which would swallow typed keys).
    public static func cancelCopyModeCommand(paneId: String) -> [String] { ["send-keys", "-X", "-t", paneId, "cancel"] }

    /// Types `text` as literal keys: for short single-line text only.
    public static func typeLiteralCommand(paneId: String, text: String) -> [String] {
        ["send-keys", "-l", "-t", paneId, "--", text]
    }

    /// Loads `text` from standard input into a named buffer and pastes it with bracketed-paste
    /// markers (when the program asked for them), deleting the buffer: one tmux call.
    public static func pasteCommand(paneId: String, buffer: String) -> [String] {
        ["load-buffer", "-b", buffer, "-", ";", "paste-buffer", "-p", "-d", "-b", buffer, "-t", paneId]
    }

    /// Presses keys by name (`Enter`, `C-u`).
    public static func keysCommand(paneId: String, keys: [String]) -> [String] { ["send-keys", "-t", paneId] + keys }

    public func cancelCopyMode(paneId: String) async throws {
        try await run(Self.cancelCopyModeCommand(paneId: paneId), target: paneId)
    }

    public func typeLiteral(paneId: String, text: String) async throws {
        try await run(Self.typeLiteralCommand(paneId: paneId, text: text), target: paneId)
    }

    public func paste(paneId: String, text: String, buffer: String) async throws {
        try await run(Self.pasteCommand(paneId: paneId, buffer: buffer), stdin: Data(text.utf8), target: paneId)
    }

    public func pressKeys(paneId: String, _ keys: [String]) async throws {
        try await run(Self.keysCommand(paneId: paneId, keys: keys), target: paneId)
    }

    /// Screen and history of the agent's pane for reading: wrapped lines joined (`-J`), colours
    /// kept with `escapes`. A full-screen program's (alternate) screen is what it shows.
    /// `target`: a pane id (`%N`) or an exact window target (`=agent:`).
    public static func captureCommand(target: String, history: Int, escapes: Bool) -> [String] {
        var args = ["capture-pane", "-p", "-J", "-t", target]
        if escapes { args.append("-e") }
        if history > 0 { args += ["-S", "-\(history)"] }
        return args
    }
}
