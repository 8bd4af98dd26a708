import Foundation

/// Why a message cannot be sent as given.
public enum MessageError: Error, Equatable, CustomStringConvertible {
    case empty
    case controlCharacter(line: Int, code: UInt32)
    case badId(String)
    case badLabel(String)
    case multiLineUnsupported(agent: String, shape: String, lines: Int)
    case lineTooLong(agent: String, line: Int, bytes: Int)
    case tooLarge(bytes: Int)
    case idReused(agent: String, id: String)

    public var description: String {
        switch self {
        case .empty:
            return "the message is empty; give it with -m/--message or on standard input"
        case .controlCharacter(let line, let code):
            return "the message has a control character (0x\(String(code, radix: 16))) on line \(line); only text, "
                + "tabs and newlines can be sent (a control character would act as a key in the agent's terminal)"
        case .badId(let id):
            return "message id \"\(id)\" is not valid; use 1-64 letters, digits and '-'"
        case .badLabel(let label):
            return "source label \"\(label)\" is not valid; use 1-64 characters without spaces, brackets or control characters"
        case .multiLineUnsupported(let agent, let shape, let lines):
            return "agent \"\(agent)\" reads one line per submission (\(shape), no bracketed paste): this \(lines)-line "
                + "message would arrive as \(lines) separate inputs; send it as one line"
        case .idReused(let agent, let id):
            return "agent \"\(agent)\" has already acknowledged message id \"\(id)\"; a verdict on it would prove nothing: use a fresh id"
        case .tooLarge(let bytes):
            return "the message is \(bytes) bytes; at most \(Message.maximumBytes) can be sent (put larger content in a file and send its path)"
        case .lineTooLong(let agent, let line, let bytes):
            return "line \(line) of the message is \(bytes) bytes, but agent \"\(agent)\" reads through the terminal's "
                + "line discipline, which cuts a line at \(InputShape.canonicalLineLimit) bytes; split it into shorter lines"
        }
    }
}

/// The frame `agent send` puts in front of a message so the runtime can acknowledge that exact
/// message: `[mosaic msg=<id> from=<label>] `. This is the format's one definition: `Message`
/// writes it; the hooks, the stub and the sender read it here; the plugins that look for it are
/// given `opening` when mosaic writes them (see `PluginSource`).
public enum MessageFrame {
    /// What every frame starts with: a text holding it carries a message id.
    public static let opening = "[mosaic msg="

    /// The frame of message `id` from `label`, with the space that separates it from the text.
    public static func render(id: String, label: String) -> String { "\(opening)\(id) from=\(label)] " }

    /// The start of message `id`'s frame, which the frame of no other id starts with.
    public static func start(of id: String) -> String { "\(opening)\(id) " }

    /// A character a message id may hold: ASCII letters and digits, and `-`.
    public static func isIdCharacter(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.isASCII && CharacterSet.alphanumerics.contains(scalar)) || scalar == "-"
    }

    /// The message id of the first frame in `text`, if it holds one.
    public static func id(in text: String) -> String? {
        guard let range = text.range(of: opening) else { return nil }
        let id = String(String.UnicodeScalarView(text[range.upperBound...].unicodeScalars.prefix(while: isIdCharacter)))
        return id.isEmpty ? nil : id
    }

    /// `text` without a whole frame at its start (what the sender framed), else `text` itself.
    public static func body(of text: String) -> String {
        guard text.hasPrefix(opening), let end = text.range(of: "] ") else { return text }
        let frame = text[..<end.lowerBound].dropFirst(opening.count)
        let parts = frame.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].unicodeScalars.allSatisfy(isIdCharacter), parts[1].hasPrefix("from=")
        else { return text }
        return String(text[end.upperBound...])
    }
}

/// One message as `agent send` delivers it: the frame (`MessageFrame`), then the text.
public struct Message: Sendable, Equatable {
    public var id: String
    public var label: String
    public var text: String
    /// Whether the frame is put in front of the text (a bare reset command goes without).
    public var framed: Bool

    /// Messages up to this many bytes, on one line, are typed with `send-keys -l`; longer or
    /// multi-line ones go through a paste buffer (one tmux message holds at most 16 KiB).
    public static let literalLimit = 512
    public static let maximumBytes = 1 << 20

    public init(id: String, label: String, text: String, framed: Bool = true) throws {
        guard Self.isValidId(id) else { throw MessageError.badId(id) }
        guard Self.isValidLabel(label) else { throw MessageError.badLabel(label) }
        // Trailing newlines would be extra Enters; leading/trailing blank space is not meaning.
        let body = text.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .newlines)
        guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw MessageError.empty }
        guard body.utf8.count <= Self.maximumBytes else { throw MessageError.tooLarge(bytes: body.utf8.count) }
        for (index, line) in body.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let bad = line.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || (0x7F...0x9F).contains($0.value) }) {
                throw MessageError.controlCharacter(line: index + 1, code: bad.value)
            }
        }
        self.id = id
        self.label = label
        self.text = body
        self.framed = framed
    }

    /// What lands in the input line.
    public var wireText: String { framed ? MessageFrame.render(id: id, label: label) + text : text }

    public var lineCount: Int { wireText.split(separator: "\n", omittingEmptySubsequences: false).count }

    /// How the text is put into the pane.
    public enum Delivery: String, Sendable { case keys, paste }

    public var delivery: Delivery {
        lineCount == 1 && wireText.utf8.count <= Self.literalLimit ? .keys : .paste
    }

    /// Refuses what the runtime's line editor would mangle: several lines where each line is a
    /// submission, or a line longer than the kernel keeps.
    public func check(against shape: InputShape, agent: String) throws {
        let lines = wireText.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.count > 1 && !shape.bracketedPaste {
            throw MessageError.multiLineUnsupported(agent: agent, shape: shape.name, lines: lines.count)
        }
        if shape.editor == .lineDiscipline {
            for (index, line) in lines.enumerated() where line.utf8.count >= InputShape.canonicalLineLimit {
                throw MessageError.lineTooLong(agent: agent, line: index + 1, bytes: line.utf8.count)
            }
        }
    }

    public static func isValidId(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.unicodeScalars.allSatisfy(MessageFrame.isIdCharacter)
    }

    public static func isValidLabel(_ label: String) -> Bool {
        !label.isEmpty && label.utf8.count <= 64 && label.unicodeScalars.allSatisfy {
            $0.value > 0x20 && $0.value != 0x7F && !"[]".unicodeScalars.contains($0)
        }
    }

    /// A fresh id: `m` + milliseconds since the epoch in base 36 + 6 random base-36 digits.
    public static func newId(now: Date = Date()) -> String {
        let ms = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        return "m\(String(ms, radix: 36))-\(String(UInt32.random(in: 0..<2_176_782_336), radix: 36))"
    }
}
