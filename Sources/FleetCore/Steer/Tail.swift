import Foundation

/// The last lines of an agent's pane as a person would see them.
public struct PaneTail: Sendable, Equatable {
    public var paneId: String
    /// A full-screen program (vim, less) is showing: the lines are its screen, there is no history.
    public var fullScreen: Bool
    public var command: String
    public var lines: [String]

    /// True when nothing at all is drawn: the caller says so rather than print a silent blank.
    public var isBlank: Bool { lines.allSatisfy { TerminalText.visibleText($0).trimmingCharacters(in: .whitespaces).isEmpty } }
}

extension Tmux {
    /// `list-panes` and `capture-pane -J` in one call. `lines`: how many to return (nil: the
    /// visible screen). The height is not known before the call, so `lines` of history are read.
    public static func tailCommand(agent: String, lines: Int?, escapes: Bool) -> [String] {
        let history = lines ?? 0
        return ["list-panes", "-t", "=\(agent):", "-F", SnapshotFormat.format, ";"]
            + captureCommand(target: "=\(agent):", history: history, escapes: escapes)
    }

    public func tail(agent: String, lines: Int?, escapes: Bool) async throws -> PaneTail {
        let output = try await run(Self.tailCommand(agent: agent, lines: lines, escapes: escapes), target: agent).stdout
        guard let snap = SnapshotFormat.parse(output) else {
            throw TmuxError.failed(command: "capture-pane", status: 0, stderr: "unexpected output for agent \(agent): \(output.prefix(200))")
        }
        return PaneTail(paneId: snap.paneId, fullScreen: snap.alternateOn, command: snap.currentCommand,
                        lines: TerminalText.lastLines(of: snap.capture, count: lines ?? snap.height))
    }
}

extension TerminalText {
    /// A capture's rows with padding and trailing blank rows removed, the last `count` kept.
    public static func lastLines(of capture: String, count: Int?) -> [String] {
        var rows = capture.split(separator: "\n", omittingEmptySubsequences: false).map { trimTrailingSpaces(String($0)) }
        while let last = rows.last, visibleText(last).trimmingCharacters(in: .whitespaces).isEmpty { rows.removeLast() }
        return count.map { Array(rows.suffix($0)) } ?? rows
    }

    /// A captured row without its escape sequences.
    public static func visibleText(_ row: String) -> String {
        var filter = TerminalText()
        return String(decoding: filter.filter(Data(row.utf8)), as: UTF8.self)
    }
}
