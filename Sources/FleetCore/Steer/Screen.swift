import Foundation

/// A pane's screen as `capture-pane -p -e` prints it, parsed into rows of characters that know
/// whether they were drawn dim or grey ("ghost" text: suggestions and placeholders, not input).
public struct Screen: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        public var character: Character
        /// Drawn with SGR 2 (dim) or a grey foreground: a suggestion, never typed text.
        public var ghost: Bool
    }

    public struct Row: Sendable, Equatable {
        public var cells: [Cell]
        /// The row's text, ghost cells included.
        public var text: String { String(cells.map(\.character)) }
        /// The row's text without ghost cells.
        public var typedText: String { String(cells.filter { !$0.ghost }.map(\.character)) }
    }

    public var rows: [Row]

    public init(rows: [Row]) { self.rows = rows }

    /// Parses capture output: SGR sequences set attributes, other escape sequences are dropped.
    public static func parse(_ capture: String) -> Screen {
        var rows: [Row] = []
        var style = Style()
        for line in capture.split(separator: "\n", omittingEmptySubsequences: false) {
            var cells: [Cell] = []
            var scalars = line.unicodeScalars[...]
            while let scalar = scalars.first {
                scalars = scalars.dropFirst()
                if scalar == "\u{1B}" {
                    scalars = style.consumeEscape(scalars)
                    continue
                }
                if scalar.value < 0x20 || scalar.value == 0x7F { continue }
                cells.append(Cell(character: Character(scalar), ghost: style.isGhost))
            }
            rows.append(Row(cells: cells))
        }
        // capture-pane ends with a newline: no row after it.
        if rows.last?.cells.isEmpty == true, capture.hasSuffix("\n") { rows.removeLast() }
        return Screen(rows: rows)
    }

    /// The text of every row, ghost cells included, for matching and display.
    public var lines: [String] { rows.map(\.text) }

    /// SGR state across the capture (tmux only emits changes, so it carries over rows).
    struct Style {
        var dim = false
        var foreground: Colour = .default

        enum Colour: Equatable {
            case `default`
            case palette(Int)
            case rgb(Int, Int, Int)
        }

        var isGhost: Bool { dim || foreground.isGrey }

        /// Consumes one escape sequence after ESC; applies it when it is SGR.
        mutating func consumeEscape(_ rest: Substring.UnicodeScalarView) -> Substring.UnicodeScalarView {
            var rest = rest
            guard let kind = rest.first else { return rest }
            rest = rest.dropFirst()
            switch kind {
            case "[":
                var params = ""
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if (0x40...0x7E).contains(c.value) {
                        if c == "m" { applySGR(params) }
                        break
                    }
                    params.unicodeScalars.append(c)
                }
            case "]":
                // OSC: up to BEL or ST (ESC \)
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if c == "\u{07}" { break }
                    if c == "\u{1B}" { rest = rest.dropFirst(); break }
                }
            default:
                break
            }
            return rest
        }

        mutating func applySGR(_ text: String) {
            let codes = text.isEmpty ? [0] : text.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
            var i = 0
            while i < codes.count {
                let code = codes[i]
                switch code {
                case 0: dim = false; foreground = .default
                case 2: dim = true
                case 22: dim = false
                case 30...37: foreground = .palette(code - 30)
                case 39: foreground = .default
                case 90...97: foreground = .palette(code - 90 + 8)
                case 38:
                    if i + 2 < codes.count, codes[i + 1] == 5 {
                        foreground = .palette(codes[i + 2]); i += 2
                    } else if i + 4 < codes.count, codes[i + 1] == 2 {
                        foreground = .rgb(codes[i + 2], codes[i + 3], codes[i + 4]); i += 4
                    }
                case 48:
                    // background colours carry no meaning here; skip their arguments
                    if i + 1 < codes.count { i += codes[i + 1] == 5 ? 2 : codes[i + 1] == 2 ? 4 : 0 }
                default: break
                }
                i += 1
            }
        }
    }
}

extension Screen.Style.Colour {
    /// Greys that programs use for suggestions and placeholders: bright black, the dark and
    /// middle greys of the 256-colour ramp and cube, and unsaturated dark RGB. Light greys and
    /// white stay "typed": some themes draw input in them.
    var isGrey: Bool {
        switch self {
        case .default: return false
        case .palette(let n):
            return n == 8 || (232...250).contains(n) || [59, 102, 145].contains(n)
        case .rgb(let r, let g, let b):
            return max(r, g, b) - min(r, g, b) < 24 && max(r, g, b) < 200
        }
    }
}
