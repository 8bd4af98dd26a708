import Foundation

/// Why the roster file could not be edited; the file is left as it was.
public enum RosterEditError: Error, Equatable, CustomStringConvertible {
    case nameTaken(String, path: String, line: Int?)
    case notFound(String, path: String, known: [String])
    case noAgentsList(path: String)
    case unsupportedLayout(path: String, reason: String)
    case wouldNotLoad(path: String, reason: String)

    public var description: String {
        switch self {
        case .nameTaken(let name, let path, let line):
            return "\(path)\(line.map { ":\($0)" } ?? ""): an agent named \"\(name)\" already exists; choose another name or remove it first with `mosaic agent rm \(name)`"
        case .notFound(let name, let path, let known):
            return "\(path): no agent named \"\(name)\"; the roster has: \(known.isEmpty ? "no agents" : known.joined(separator: ", "))"
        case .noAgentsList(let path):
            return "\(path): the roster has no top-level `agents:` key to add to; add a line `agents:` and try again"
        case .unsupportedLayout(let path, let reason):
            return "\(path): cannot edit the `agents` list safely: \(reason); edit the file by hand"
        case .wouldNotLoad(let path, let reason):
            return "\(path): the edited roster would not load as expected (\(reason)); nothing was written. Please report this with the file"
        }
    }
}

/// Edits the roster as text, so everything but the one entry it adds or removes stays byte for
/// byte: comments, blank lines, quoting, the order and layout of other entries. Every result is
/// parsed again with the real loader and refused unless it loads to exactly the expected roster.
public struct RosterEditor: Sendable {
    public let text: String
    public let path: String
    public let loader: RosterLoader

    public init(text: String, path: String, loader: RosterLoader) {
        self.text = text
        self.path = path
        self.loader = loader
    }

    /// The text with `agent` appended as the last entry of `agents:`, in the file's own style.
    public func adding(_ agent: AgentSpec) throws -> String {
        let roster = try loader.parse(text, path: path)
        if roster.agent(named: agent.name) != nil {
            throw RosterEditError.nameTaken(agent.name, path: path, line: lineOfAgent(agent.name))
        }
        let fields = Self.fields(of: agent)
        let lines = Lines(text)
        guard let list = lines.agentsList() else { throw RosterEditError.noAgentsList(path: path) }
        let edited: String
        switch list {
        case .block(let block):
            var out = lines.lines
            let entry = block.entryLines(fields)
            if let at = block.insertAfter {
                out.insert(contentsOf: entry, at: at + 1)
            } else {
                out.insert(contentsOf: entry, at: block.keyLine + 1)
            }
            edited = out.joined(separator: "\n")
        case .flow(let flow):
            edited = try flow.adding(Self.flowEntry(fields), in: text, path: path)
        case .unsupported(let reason):
            throw RosterEditError.unsupportedLayout(path: path, reason: reason)
        }
        var expected = roster
        expected.agents.append(agent)
        try verify(edited, expected)
        return edited
    }

    /// The text without the entry of agent `name`: exactly its lines (or, in a flow list, its
    /// item and one separating comma). Comments above the entry stay.
    public func removing(_ name: String) throws -> String {
        let roster = try loader.parse(text, path: path)
        guard let index = roster.agents.firstIndex(where: { $0.name == name }) else {
            throw RosterEditError.notFound(name, path: path, known: roster.agents.map(\.name))
        }
        let lines = Lines(text)
        let edited: String
        switch lines.agentsList() {
        case .block(let block)?:
            guard block.items.count == roster.agents.count else {
                throw RosterEditError.unsupportedLayout(path: path, reason: "found \(block.items.count) entries in the text but the roster has \(roster.agents.count) agents")
            }
            var out = lines.lines
            out.removeSubrange(block.items[index].range)
            edited = out.joined(separator: "\n")
        case .flow(let flow)?:
            edited = try flow.removing(index, count: roster.agents.count, in: text, path: path)
        case .unsupported(let reason)?:
            throw RosterEditError.unsupportedLayout(path: path, reason: reason)
        case nil:
            throw RosterEditError.noAgentsList(path: path)
        }
        var expected = roster
        expected.agents.remove(at: index)
        try verify(edited, expected)
        return edited
    }

    func verify(_ edited: String, _ expected: Roster) throws {
        let reloaded: Roster
        do { reloaded = try loader.parse(edited, path: path) } catch {
            throw RosterEditError.wouldNotLoad(path: path, reason: "\(error)")
        }
        guard reloaded == expected else {
            throw RosterEditError.wouldNotLoad(path: path, reason: "it loads as agents \(reloaded.agents.map(\.name)) instead of \(expected.agents.map(\.name))")
        }
    }

    func lineOfAgent(_ name: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.firstIndex { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.range(of: #"^(- *)?\{?\s*name:\s*["']?"# + NSRegularExpression.escapedPattern(for: name) + #"["']?\s*([,}#].*)?$"#,
                           options: .regularExpression) != nil
        }.map { $0 + 1 }
    }

    /// The keys `agent new` writes, in roster order; empty values are left out.
    static func fields(of agent: AgentSpec) -> [(String, String)] {
        var fields: [(String, String)] = [("name", agent.name), ("runtime", agent.runtime.rawValue)]
        if let role = agent.role { fields.append(("role", role)) }
        if let command = agent.command { fields.append(("command", command)) }
        if let workdir = agent.workdir { fields.append(("workdir", workdir)) }
        if let model = agent.model { fields.append(("model", model)) }
        if let effort = agent.effort { fields.append(("effort", effort)) }
        return fields.map { ($0.0, scalar($0.1)) }
    }

    static func flowEntry(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// A YAML scalar: plain when it can only read back as the same text, else double-quoted
    /// (a JSON string is a valid YAML double-quoted scalar).
    static func scalar(_ value: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./~+@-")
        let reserved: Set<String> = ["null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
                                     "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N"]
        if let first = value.unicodeScalars.first, first != "-", first != "~" || value.count > 1,
           value.unicodeScalars.allSatisfy(safe.contains), !reserved.contains(value) {
            return value
        }
        return JSON.string(value).rendered(pretty: false)
    }
}

/// The roster's lines, and where its `agents:` list sits in them.
struct Lines {
    let lines: [String]

    init(_ text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    static func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
    static func isContent(_ line: String) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
        return !t.isEmpty && !t.hasPrefix("#")
    }
    static func isComment(_ line: String) -> Bool { line.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
    static func isDash(_ line: String) -> Bool {
        let t = line.drop { $0 == " " }
        return t == "-" || t == "-\r" || t.hasPrefix("- ")
    }

    enum List {
        case block(BlockList)
        case flow(FlowList)
        case unsupported(String)
    }

    func agentsList() -> List? {
        guard let first = lines.firstIndex(where: Self.isContent) else { return nil }
        let top = Self.indent(lines[first])
        guard let keyLine = lines.indices.first(where: { i in
            Self.isContent(lines[i]) && Self.indent(lines[i]) == top && lines[i].dropFirst(top).hasPrefix("agents:")
        }) else { return nil }
        let rest = lines[keyLine].dropFirst(top + "agents:".count)
        let value = rest.drop { $0 == " " }
        if value.hasPrefix("[") {
            let lineStart = lines[..<keyLine].reduce(0) { $0 + $1.utf8.count + 1 }
            let bracket = lineStart + lines[keyLine].utf8.count - value.utf8.count
            return .flow(FlowList(open: bracket))
        }
        if !(value.isEmpty || value.hasPrefix("#") || value == "\r") {
            return .unsupported("`agents:` is followed by \"\(value.prefix(20))\" instead of a list")
        }
        // The block list: every line up to the next key at the top level.
        var lastContent: Int?
        var dashes: [Int] = []
        var seqIndent: Int?
        var i = keyLine + 1
        while i < lines.count {
            let line = lines[i]
            if Self.isContent(line) {
                let indent = Self.indent(line)
                if indent < top || (indent == top && !Self.isDash(line)) { break }
                if Self.isDash(line), seqIndent == nil || indent == seqIndent {
                    seqIndent = indent
                    dashes.append(i)
                }
                lastContent = i
            }
            i += 1
        }
        guard let seqIndent, let lastContent, let firstDash = dashes.first else {
            // `agents:` with nothing under it yet: a block list in the file's own indent unit.
            let unit = lines.lazy.filter(Self.isContent).map(Self.indent).filter { $0 > top }.min() ?? 2
            return .block(BlockList(keyLine: keyLine, seqIndent: top + unit, keyColumn: top + unit + 2, insertAfter: nil, items: []))
        }
        let afterDash = lines[firstDash].dropFirst(seqIndent + 1)
        let gap = afterDash.prefix { $0 == " " }.count
        var keyColumn = seqIndent + 1 + gap
        if afterDash.allSatisfy({ $0 == " " || $0 == "\r" }) {
            keyColumn = lines[(firstDash + 1)...].first(where: Self.isContent).map(Self.indent) ?? seqIndent + 2
        }
        /// An entry ends at its last content line, with the comments right below it that are
        /// indented like its keys.
        func end(after last: Int) -> Int {
            var end = last
            while end + 1 < lines.count, Self.isComment(lines[end + 1]), Self.indent(lines[end + 1]) >= keyColumn { end += 1 }
            return end
        }
        var items: [BlockList.Item] = []
        for (n, dash) in dashes.enumerated() {
            let limit = n + 1 < dashes.count ? dashes[n + 1] - 1 : lastContent
            let last = (dash...limit).last { Self.isContent(lines[$0]) } ?? dash
            items.append(.init(range: dash...end(after: last)))
        }
        return .block(BlockList(keyLine: keyLine, seqIndent: seqIndent, keyColumn: keyColumn,
                                insertAfter: end(after: lastContent), items: items))
    }
}

/// A block list (`- name: …` lines) under `agents:`.
struct BlockList {
    struct Item { var range: ClosedRange<Int> }
    let keyLine: Int
    let seqIndent: Int
    let keyColumn: Int
    /// The line the next entry goes after (`nil`: right after `agents:`).
    let insertAfter: Int?
    let items: [Item]

    func entryLines(_ fields: [(String, String)]) -> [String] {
        let pad = String(repeating: " ", count: keyColumn)
        let dash = String(repeating: " ", count: seqIndent) + "-" + String(repeating: " ", count: max(1, keyColumn - seqIndent - 1))
        return fields.enumerated().map { n, field in (n == 0 ? dash : pad) + "\(field.0): \(field.1)" }
    }
}

/// A flow list (`agents: [{…}, {…}]`, on one line or several) at byte offset `open`.
struct FlowList {
    let open: Int

    /// The byte ranges of the list's items and the offset of its closing bracket.
    func scan(_ bytes: [UInt8], path: String) throws -> (items: [Range<Int>], close: Int) {
        var depth = 0, i = open, itemStart: Int?, lastNonSpace = open
        var items: [Range<Int>] = []
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                if itemStart == nil { itemStart = i }
                let quote = c
                i += 1
                while i < bytes.count {
                    if quote == UInt8(ascii: "\"") && bytes[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if bytes[i] == quote {
                        if quote == UInt8(ascii: "'"), i + 1 < bytes.count, bytes[i + 1] == quote { i += 2; continue }
                        break
                    }
                    i += 1
                }
                lastNonSpace = i
            case UInt8(ascii: "#") where i > 0 && [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n")].contains(bytes[i - 1]):
                while i < bytes.count, bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > 1 {
                    if itemStart == nil { itemStart = i }
                    lastNonSpace = i
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    if let start = itemStart { items.append(start..<(lastNonSpace + 1)) }
                    return (items, i)
                }
                lastNonSpace = i
            case UInt8(ascii: ",") where depth == 1:
                if let start = itemStart { items.append(start..<(lastNonSpace + 1)) }
                itemStart = nil
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                break
            default:
                if itemStart == nil { itemStart = i }
                lastNonSpace = i
            }
            i += 1
        }
        throw RosterEditError.unsupportedLayout(path: path, reason: "the `agents` flow list has no closing bracket")
    }

    func adding(_ entry: String, in text: String, path: String) throws -> String {
        var bytes = Array(text.utf8)
        let (items, close) = try scan(bytes, path: path)
        guard let last = items.last else {
            bytes.insert(contentsOf: Array(entry.utf8), at: close)
            return String(decoding: bytes, as: UTF8.self)
        }
        let multiline = bytes[open..<last.lowerBound].contains(UInt8(ascii: "\n"))
        var insert = ", " + entry
        if multiline {
            let lineStart = (bytes[..<last.lowerBound].lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            let indent = String(decoding: bytes[lineStart..<last.lowerBound].prefix { $0 == UInt8(ascii: " ") }, as: UTF8.self)
            insert = ",\n" + indent + entry
        }
        bytes.insert(contentsOf: Array(insert.utf8), at: last.upperBound)
        return String(decoding: bytes, as: UTF8.self)
    }

    func removing(_ index: Int, count: Int, in text: String, path: String) throws -> String {
        var bytes = Array(text.utf8)
        let (items, _) = try scan(bytes, path: path)
        guard items.count == count else {
            throw RosterEditError.unsupportedLayout(path: path, reason: "found \(items.count) entries in the flow list but the roster has \(count) agents")
        }
        let item = items[index]
        if index + 1 < items.count {
            bytes.removeSubrange(item.lowerBound..<items[index + 1].lowerBound)
        } else if index > 0 {
            bytes.removeSubrange(items[index - 1].upperBound..<item.upperBound)
        } else {
            var end = item.upperBound
            while end < bytes.count, [UInt8(ascii: " "), UInt8(ascii: "\n")].contains(bytes[end]) { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: ",") { bytes.removeSubrange(item.lowerBound...end) } else { bytes.removeSubrange(item) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
