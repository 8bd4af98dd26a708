import Foundation

/// Turns a terminal byte stream into plain text for pipes and logs: escape sequences (colours,
/// cursor moves, titles, mode switches) and carriage returns are dropped; text, tabs and
/// newlines pass. Sequences split across chunks are handled (the state carries over).
public struct TerminalText: Sendable {
    enum State { case text, escape, escapeArgument, csi, string, stringEscape }
    private var state = State.text

    public init() {}

    public mutating func filter(_ bytes: Data) -> Data {
        var out = Data(capacity: bytes.count)
        for b in bytes {
            switch state {
            case .text:
                if b == 0x1B { state = .escape } else if b == 0x0A || b == 0x09 || b >= 0x20 && b != 0x7F { out.append(b) }
            case .escape:
                switch b {
                case 0x5B: state = .csi                               // [
                case 0x5D, 0x50, 0x5F, 0x5E, 0x58: state = .string    // ] P _ ^ X: until BEL or ST
                case 0x20...0x2F: state = .escapeArgument             // ( ) # % …: one more byte
                default: state = .text
                }
            case .escapeArgument:
                state = .text
            case .csi:
                if (0x40...0x7E).contains(b) { state = .text }
            case .string:
                if b == 0x07 { state = .text } else if b == 0x1B { state = .stringEscape }
            case .stringEscape:
                state = b == 0x5C ? .text : .string
            }
        }
        return out
    }

    /// Removes trailing spaces of a captured row, also where an SGR sequence follows them
    /// (`capture-pane -J -e` keeps the padding of full-screen programs' rows).
    public static func trimTrailingSpaces(_ line: String) -> String {
        var scalars = Array(line.unicodeScalars)
        var end = scalars.count
        var trailingSGR: [Unicode.Scalar] = []
        while end > 0 {
            if scalars[end - 1] == " " { end -= 1; continue }
            // an SGR sequence at the end: ESC [ digits ; m
            if scalars[end - 1] == "m", let esc = scalars[..<end].lastIndex(of: "\u{1B}"),
               esc + 1 < end, scalars[esc + 1] == "[",
               scalars[(esc + 2)..<(end - 1)].allSatisfy({ ("0"..."9").contains($0) || $0 == ";" }) {
                trailingSGR = Array(scalars[esc..<end]) + trailingSGR
                end = esc
                continue
            }
            break
        }
        scalars = Array(scalars[..<end]) + trailingSGR
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }
}
