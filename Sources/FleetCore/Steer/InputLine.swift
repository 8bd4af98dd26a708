import Foundation

/// What the pane's input line holds, read from its screen and cursor.
public enum InputLineState: Sendable, Equatable {
    /// A prompt with nothing typed after it (ghost text does not count).
    case empty(shape: String)
    /// A prompt followed by typed text: an operator's draft, or a message not yet submitted.
    case draft(shape: String, text: String)
    /// No known prompt at the cursor: the program is working, or shows something else.
    case noPrompt

    public var isDraft: Bool { if case .draft = self { return true } else { return false } }
}

/// Finds the input line at the cursor and says whether it holds typed text.
public struct InputLineReader: Sendable {
    public var shapes: [InputShape]
    /// How many rows above the cursor an input (wrapped or continued) may start.
    public var maxInputRows = 60

    public init(shapes: [InputShape]) { self.shapes = shapes }

    /// The shapes that apply to a pane running `command`: those naming it first, then fallbacks.
    public static func shapes(for adapter: RuntimeAdapter, command: String) -> [InputShape] {
        let named = adapter.inputShapes.filter { $0.commands != nil && $0.applies(to: command) }
        return named + adapter.inputShapes.filter { $0.commands == nil }
    }

    /// Classifies the input line of `screen` with the cursor at (`cursorX`, `cursorY`).
    public func classify(_ screen: Screen, cursorX: Int, cursorY: Int, width: Int) -> (state: InputLineState, shape: InputShape?) {
        guard cursorY >= 0, cursorY < screen.rows.count else { return (.noPrompt, nil) }
        for shape in shapes {
            if let text = typedText(screen, cursorX: cursorX, cursorY: cursorY, width: width, shape: shape) {
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return (trimmed.isEmpty ? .empty(shape: shape.name) : .draft(shape: shape.name, text: trimmed), shape)
            }
        }
        return (.noPrompt, nil)
    }

    /// The typed (non-ghost) text of the input that ends on the cursor row, or nil when no
    /// prompt of `shape` starts it. Rows between prompt and cursor must be continuation rows
    /// or continue a full-width (wrapped) row; anything else means the cursor is not in an input.
    func typedText(_ screen: Screen, cursorX: Int, cursorY: Int, width: Int, shape: InputShape) -> String? {
        if shape.boxRule != nil { return boxedText(screen, cursorY: cursorY, width: width, shape: shape) }
        var row = cursorY
        var parts: [String] = []
        while row >= 0, cursorY - row <= maxInputRows {
            let cells = screen.rows[row].cells
            let text = String(cells.map(\.character))
            // On the cursor's row an input's prompt lies left of the cursor: output such as
            // `NameError: name …` with the cursor at its start is not a prompt.
            if let n = shape.promptLength(in: text), row < cursorY || cursorX >= Self.columns(text, upTo: n) {
                parts.append(String(cells.dropFirst(n).filter { !$0.ghost }.map(\.character)))
                // ipython also lists continuation rows below the cursor (the cursor may sit mid-buffer)
                var below = cursorY + 1
                while below < screen.rows.count, let c = shape.continuationLength(in: screen.rows[below].text), shape.continuation != nil {
                    parts.insert(String(screen.rows[below].cells.dropFirst(c).filter { !$0.ghost }.map(\.character)), at: 0)
                    below += 1
                }
                return parts.reversed().joined(separator: "\n")
            }
            if let c = shape.continuationLength(in: text), shape.editor.continuesOnRows {
                parts.append(String(cells.dropFirst(c).filter { !$0.ghost }.map(\.character)))
            } else if row > 0, screen.rows[row - 1].cells.count >= width {
                parts.append(String(cells.filter { !$0.ghost }.map(\.character)))
            } else {
                return nil
            }
            row -= 1
        }
        return nil
    }
}

extension InputLineReader {
    /// The typed text of a boxed input (`InputShape.boxRule`): the rows between the nearest rule
    /// above the cursor and the nearest below it, one line each, without ghost cells and without
    /// trailing blanks (the program's own cursor, a reverse-video space at the text's end, is not
    /// text). Nil when the cursor is not inside such a box.
    func boxedText(_ screen: Screen, cursorY: Int, width: Int, shape: InputShape) -> String? {
        let rows = screen.rows
        guard !shape.isBoxRule(rows[cursorY], width: width) else { return nil }
        var top = cursorY - 1
        while top >= 0, cursorY - top <= maxInputRows, !shape.isBoxRule(rows[top], width: width) { top -= 1 }
        guard top >= 0, cursorY - top <= maxInputRows else { return nil }
        var bottom = cursorY + 1
        while bottom < rows.count, bottom - cursorY <= maxInputRows, !shape.isBoxRule(rows[bottom], width: width) { bottom += 1 }
        guard bottom < rows.count, bottom - cursorY <= maxInputRows else { return nil }
        var lines: [String] = []
        for index in (top + 1)..<bottom {
            let text = rows[index].text
            let prefix: Int
            if index == top + 1 {
                guard let n = shape.promptLength(in: text) else { return nil }
                prefix = n
            } else {
                prefix = shape.continuationLength(in: text) ?? 0
            }
            let typed = String(rows[index].cells.dropFirst(prefix).filter { !$0.ghost }.map(\.character))
            lines.append(String(typed.reversed().drop { $0.isWhitespace }.reversed()))
        }
        return lines.joined(separator: "\n")
    }

    /// Terminal columns of the first `count` characters (East Asian wide characters take two),
    /// less a trailing space, which the capture trims when nothing follows it.
    static func columns(_ text: String, upTo count: Int) -> Int {
        let prefix = text.prefix(count)
        let width = prefix.unicodeScalars.reduce(0) { $0 + (($1.value >= 0x1100 && $1.value <= 0x115F) || ($1.value >= 0x2E80 && $1.value <= 0xA4CF)
            || ($1.value >= 0xAC00 && $1.value <= 0xD7A3) || ($1.value >= 0xF900 && $1.value <= 0xFAFF) || ($1.value >= 0xFF00 && $1.value <= 0xFF60)
            || ($1.value >= 0x1F300 && $1.value <= 0x1FAFF) ? 2 : 1) }
        return prefix.hasSuffix(" ") ? width - 1 : width
    }
}

/// Whether the screen shows `message` as the text just typed at the cursor: used before
/// pressing Enter (it must be ours, all of it) and after (is it still sitting there?).
public enum TypedEcho {
    /// Line-discipline echo of the paste markers (`^[[200~`), which are not part of the text.
    static let markers = ["^[[200~", "^[[201~"]

    static func squeezed(_ text: String) -> String {
        var s = text
        for m in markers { s = s.replacingOccurrences(of: m, with: "") }
        return String(s.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) }.map(Character.init))
    }

    /// True when the non-ghost text on the screen, read up to the cursor, ends with the end of
    /// `message` (whitespace and wrapping ignored). Only the last `tail` characters are compared,
    /// because a long message scrolls its start off the screen.
    public static func endsAtCursor(_ screen: Screen, cursorX: Int, cursorY: Int, message: String, tail: Int = 160) -> Bool {
        guard cursorY >= 0, cursorY < screen.rows.count else { return false }
        let want = String(squeezed(message).suffix(tail))
        guard !want.isEmpty else { return false }
        let cursorRow = screen.rows[cursorY].cells.prefix(max(0, cursorX)).filter { !$0.ghost }
        guard !squeezed(String(cursorRow.map(\.character))).isEmpty else { return false }
        var seen = ""
        var row = cursorY
        while row >= 0 {
            let cells = row == cursorY ? Array(cursorRow) : screen.rows[row].cells.filter { !$0.ghost }
            seen = squeezed(String(cells.map(\.character))) + seen
            if seen.count >= want.count + 8 { break }
            row -= 1
        }
        return seen.hasSuffix(want)
    }

    /// True when a classified input line holds exactly `message` (nothing of anyone else's).
    public static func matches(_ state: InputLineState, message: String) -> Bool {
        guard case .draft(_, let text) = state else { return false }
        let shown = squeezed(text), full = squeezed(message)
        return !shown.isEmpty && (shown == full || full.hasSuffix(shown))
    }
}
