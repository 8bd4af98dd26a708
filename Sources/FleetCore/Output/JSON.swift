import Foundation

/// A JSON value with ordered keys and its byte writer: what `OrderedJSONEncoder` builds from the
/// `--json` documents' Codable types, and what the runtime adapters write their config files with.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.rendered() == b.rendered() }

    /// Pretty-printed with two-space indents, or compact.
    public func rendered(pretty: Bool = true) -> String {
        // Rendered as UTF-8 bytes: appending to a String piece by piece cost a quarter of
        // `fleet ps --json` at 1000 agents.
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(into: &out, indent: pretty ? 0 : nil)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8], indent: Int?) {
        func newline(_ level: Int) {
            guard indent != nil else { return }
            out.append(0x0A)
            out.append(contentsOf: repeatElement(0x20, count: 2 * level))
        }
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .int(let i): out += String(i).utf8
        case .double(let d): out += (d.isFinite ? String(d) : "null").utf8
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]".utf8; return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                newline((indent ?? 0) + 1)
                item.write(into: &out, indent: indent.map { $0 + 1 })
                if i < items.count - 1 { out.append(UInt8(ascii: ",")) }
            }
            newline(indent ?? 0)
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            if fields.isEmpty { out += "{}".utf8; return }
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in fields.enumerated() {
                newline((indent ?? 0) + 1)
                Self.quote(key, into: &out)
                out += (indent == nil ? ":" : ": ").utf8
                value.write(into: &out, indent: indent.map { $0 + 1 })
                if i < fields.count - 1 { out.append(UInt8(ascii: ",")) }
            }
            newline(indent ?? 0)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Escapes byte by byte: every byte of a multi-byte UTF-8 sequence is >= 0x80 and passes as is.
    static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s.utf8
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\"".utf8
            case UInt8(ascii: "\\"): out += "\\\\".utf8
            case 0x0A: out += "\\n".utf8
            case 0x0D: out += "\\r".utf8
            case 0x09: out += "\\t".utf8
            case 0..<0x20:
                let low = byte & 0xF
                out += "\\u00".utf8
                out += [0x30 + (byte >> 4), low < 10 ? 0x30 + low : 0x61 + low - 10]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
