import Foundation

/// `fleet top`'s state: the latest snapshot, the selected agent, and what the keyboard is doing
/// (moving, typing a message, confirming a restart). A value: keys go in, actions come out, and
/// `TopRenderer` draws it; the terminal and the processes are the command's business.
public struct TopModel: Sendable {
    public enum Mode: Sendable, Equatable {
        case browse
        /// Typing a message for `agent`.
        case send(agent: String, text: String)
        case confirmRestart(agent: String)
        /// An agent's screen and history (`agent tail`), shown until a key is pressed.
        case tail(agent: String, lines: [String])
    }

    /// What the command must do for a key.
    public enum Action: Sendable, Equatable {
        case watch(String)
        case tail(String)
        case send(agent: String, text: String)
        case restart(String)
        case quit
    }

    public enum Key: Sendable, Equatable {
        case up, down, home, end, enter, escape, backspace, interrupt
        case char(Character)
    }

    public var snapshot: FleetSnapshot?
    /// The selected agent, by name, so a refresh that reorders nothing keeps it.
    public var selected: String?
    public var mode: Mode = .browse
    /// One line under the table: the last verdict, or what went wrong.
    public var status: String = ""
    /// Why the planes could not be read at the last refresh (the table then shows the one before).
    public var readError: String?

    public init() {}

    /// The agents in the order shown: those that need the operator (waiting for input or
    /// approval) first, then the rest in roster order.
    public var rows: [AgentRow] {
        let agents = snapshot?.agents ?? []
        return agents.filter { $0.state == .waiting } + agents.filter { $0.state != .waiting }
    }

    public var selectedIndex: Int? {
        let rows = self.rows
        guard !rows.isEmpty else { return nil }
        return rows.firstIndex { $0.name == selected } ?? 0
    }

    /// Takes a new snapshot; the selection stays on the same agent if it is still there.
    public mutating func update(_ snapshot: FleetSnapshot) {
        self.snapshot = snapshot
        readError = nil
        if let index = selectedIndex { selected = rows[index].name }
    }

    public mutating func handle(_ key: Key) -> Action? {
        switch mode {
        case .browse:
            return browse(key)
        case .send(let agent, var text):
            switch key {
            case .enter:
                mode = .browse
                let message = text.trimmingCharacters(in: .whitespaces)
                guard !message.isEmpty else { status = "nothing sent (empty message)"; return nil }
                status = "sending to \(agent)…"
                return .send(agent: agent, text: message)
            case .escape, .interrupt:
                mode = .browse
                status = "send cancelled"
            case .backspace:
                if !text.isEmpty { text.removeLast() }
                mode = .send(agent: agent, text: text)
            case .char(let c):
                // One line of printable text: control characters never reach the agent from here.
                if !c.isNewline, c.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }), text.count < 2000 {
                    text.append(c)
                }
                mode = .send(agent: agent, text: text)
            default:
                break
            }
            return nil
        case .confirmRestart(let agent):
            mode = .browse
            if key == .char("y") || key == .char("Y") {
                status = "restarting \(agent)…"
                return .restart(agent)
            }
            status = "restart cancelled"
            return nil
        case .tail:
            mode = .browse
            return key == .interrupt ? .quit : nil
        }
    }

    private mutating func browse(_ key: Key) -> Action? {
        let rows = self.rows
        let index = selectedIndex
        switch key {
        case .up, .char("k"):
            if let index, index > 0 { selected = rows[index - 1].name }
        case .down, .char("j"):
            if let index, index + 1 < rows.count { selected = rows[index + 1].name }
        case .home, .char("g"):
            selected = rows.first?.name
        case .end, .char("G"):
            selected = rows.last?.name
        case .char("q"), .interrupt:
            return .quit
        case .char("w"), .enter:
            if let index { return .watch(rows[index].name) }
        case .char("t"):
            if let index { return .tail(rows[index].name) }
        case .char("s"):
            if let index {
                mode = .send(agent: rows[index].name, text: "")
                status = ""
            }
        case .char("r"):
            if let index { mode = .confirmRestart(agent: rows[index].name) }
        default:
            break
        }
        return nil
    }
}

/// Draws `TopModel` as exactly `height` lines of at most `width` columns: a header, the table with
/// the selected row marked, and two lines at the bottom (the status or prompt, the keys).
public enum TopRenderer {
    public static func render(_ model: TopModel, width: Int, height: Int, color: Bool, now: Date = Date()) -> [String] {
        let width = max(width, 20), height = max(height, 6)
        var lines: [String] = []
        let snapshot = model.snapshot
        let healthy = snapshot.map { s in s.agents.filter(\.healthy).count } ?? 0
        let total = snapshot?.agents.count ?? 0
        var header = "mosaic fleet top"
        if let s = snapshot {
            header += " · \(s.tenant)@\(s.host) · \(healthy)/\(total) healthy"
            if let pid = s.daemonPid { header += " · daemon \(pid)" } else { header += " · no daemon" }
            if let r = s.recovery { header += " · recovering \(r.done)/\(r.total)" }
            if !s.tmuxServerRunning { header += " · tmux server not running" }
        }
        lines.append(fit(header, width))

        let bodyHeight = height - 3
        if case .tail(let agent, let tail) = model.mode {
            lines.append(fit("── \(agent): screen and history (any key returns) ──", width))
            let shown = tail.suffix(bodyHeight - 1)
            lines += shown.map { fit($0, width) }
            lines += Array(repeating: "", count: max(0, bodyHeight - 1 - shown.count))
        } else {
            lines += table(model, width: width, height: bodyHeight, color: color, now: now)
        }

        let prompt: String
        switch model.mode {
        case .send(let agent, let text): prompt = "send to \(agent)> \(text)_"
        case .confirmRestart(let agent): prompt = "restart \(agent)? y/n"
        default: prompt = model.readError.map { "cannot read the fleet: \($0)" } ?? model.status
        }
        lines.append(fit(prompt, width, tail: true))
        let keys: String
        switch model.mode {
        case .send: keys = "Enter send · Esc cancel"
        case .confirmRestart: keys = "y restart · any other key cancels"
        case .tail: keys = "any key returns"
        case .browse: keys = "↑↓ move · w watch · t tail · s send · r restart · q quit"
        }
        lines.append(fit(keys, width))
        return lines
    }

    /// The table: a title row and one row per agent, scrolled so the selected one is visible.
    static func table(_ model: TopModel, width: Int, height: Int, color: Bool, now: Date) -> [String] {
        let rows = model.rows
        guard !rows.isEmpty else {
            return [model.snapshot == nil ? "reading the fleet…" : "the roster has no agents"] + Array(repeating: "", count: height - 1)
        }
        // LIFECYCLE and RST only where a daemon supervises, as in `ps`.
        let supervised = rows.contains { $0.lifecycle != nil }
        var columns: [Table.Column] = [.init(" "), .init("AGENT", shrinkable: true), .init("PANE"), .init("HEARTBEAT"), .init("STATUS")]
        if supervised { columns += [.init("LIFECYCLE"), .init("RST")] }
        columns += [.init("IDLE"), .init("FLAGS", shrinkable: true)]
        let selected = model.selectedIndex
        let cells = rows.enumerated().map { index, row -> [Table.Cell] in
            let pane: Table.Cell
            switch row.session {
            case .running: pane = row.runState == .stopped ? Table.Cell("stopped", color: "31") : Table.Cell("alive", color: "32")
            case .dead:
                let why = row.paneExitSignal.map(PaneFormat.signalName) ?? row.paneExitStatus.map(String.init)
                pane = Table.Cell("dead" + (why.map { "(\($0))" } ?? ""), color: "31")
            case .missing: pane = Table.Cell("missing", color: "31")
            case .noServer: pane = Table.Cell("no-server", color: "31")
            }
            let hb = row.heartbeat
            let heartbeat: Table.Cell
            switch hb.health {
            case .healthy: heartbeat = Table.Cell("healthy \(Duration.compact(ms: hb.ageMs))", color: "32")
            case .stale: heartbeat = Table.Cell("stale \(Duration.compact(ms: hb.ageMs))", color: "31")
            case .future: heartbeat = Table.Cell("future", color: "31")
            case .unknown: heartbeat = Table.Cell("unknown", color: "33")
            }
            let state = Table.Cell(row.state.map { $0.rawValue + (row.waitingFor.map { "/\($0.rawValue)" } ?? "") } ?? "-",
                                   color: row.state == .waiting ? "33" : nil)
            let life = row.lifecycle.map { Table.Cell($0.cell(now: now), color: $0.state == .running ? "32" : $0.state == .failed ? "31" : "33") }
                ?? Table.Cell("-")
            var flags: [String] = []
            if row.driftFlag == true { flags.append("DRIFT") }
            if row.session == .missing { flags.append("MISSING") }
            if row.silentBusy { flags.append("SILENT") }
            if !row.healthy, let why = row.problems.first(where: \.explainsUnhealthy)?.sentence { flags.append(why) }
            var cells = [Table.Cell(index == selected ? ">" : " "), Table.Cell(row.name, color: row.healthy ? nil : "1"), pane, heartbeat, state]
            if supervised { cells += [life, Table.Cell(row.lifecycle.map { String($0.restarts) } ?? "-")] }
            return cells + [Table.Cell(row.idleSeconds.map(Duration.compact(seconds:)) ?? "-"), Table.Cell(flags.joined(separator: " "))]
        }
        var rendered = Table(columns: columns, rows: cells).rendered(width: width, color: color)
            .split(separator: "\n", omittingEmptySubsequences: false).map { fitVisible(String($0), width) }
        if rendered.last == "" { rendered.removeLast() }
        let title = rendered.first ?? ""
        var body = Array(rendered.dropFirst())
        // Scroll: keep the selected row on screen.
        let visible = height - 1
        var top = 0
        if let selected, selected >= visible { top = selected - visible + 1 }
        body = Array(body.dropFirst(top).prefix(visible))
        if color, let selected, selected >= top, selected - top < body.count {
            body[selected - top] = "\u{1B}[7m" + body[selected - top] + "\u{1B}[0m"
        }
        return [title] + body + Array(repeating: "", count: max(0, visible - body.count))
    }

    /// Cuts a line that may hold colour codes to `width` visible columns (codes do not count).
    static func fitVisible(_ line: String, _ width: Int) -> String {
        var out = "", count = 0, inEscape = false, cut = false
        for c in line {
            if inEscape { out.append(c); if c.isLetter { inEscape = false }; continue }
            if c == "\u{1B}" { inEscape = true; out.append(c); continue }
            if count == width { cut = true; continue }
            out.append(c)
            count += 1
        }
        return cut && line.contains("\u{1B}") ? out + "\u{1B}[0m" : out
    }

    /// Cuts a line to `width` columns (from the left, or keeping its end when `tail`).
    static func fit(_ text: String, _ width: Int, tail: Bool = false) -> String {
        guard text.count > width else { return text }
        return tail ? "…" + text.suffix(width - 1) : text.prefix(width - 1) + "…"
    }
}

/// Bytes from a terminal in raw mode into keys: arrows and Home/End (CSI and SS3 forms), Enter,
/// Backspace, Ctrl-C, Escape, and UTF-8 text.
public enum TopKeyDecoder {
    public static func decode(_ bytes: inout [UInt8], final: Bool) -> [TopModel.Key] {
        var keys: [TopModel.Key] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x1B {
                guard i + 1 < bytes.count else {
                    if final { keys.append(.escape); i += 1; continue }
                    break
                }
                if bytes[i + 1] == UInt8(ascii: "[") || bytes[i + 1] == UInt8(ascii: "O") {
                    // The sequence ends at its first byte in 0x40...0x7E.
                    guard let end = bytes[(i + 2)...].firstIndex(where: { (0x40...0x7E).contains($0) }) else {
                        if final { keys.append(.escape); i = bytes.count }
                        break
                    }
                    switch bytes[end] {
                    case UInt8(ascii: "A"): keys.append(.up)
                    case UInt8(ascii: "B"): keys.append(.down)
                    case UInt8(ascii: "H"): keys.append(.home)
                    case UInt8(ascii: "F"): keys.append(.end)
                    default: break
                    }
                    i = end + 1
                    continue
                }
                keys.append(.escape)
                i += 1
                continue
            }
            switch b {
            case 0x0D, 0x0A: keys.append(.enter)
            case 0x7F, 0x08: keys.append(.backspace)
            case 0x03: keys.append(.interrupt)
            case 0x00..<0x20: break
            default:
                // One UTF-8 character: its length from the lead byte.
                let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                guard i + length <= bytes.count else {
                    if final { i = bytes.count }
                    bytes.removeFirst(i)
                    return keys
                }
                if let c = String(bytes: bytes[i..<(i + length)], encoding: .utf8)?.first { keys.append(.char(c)) }
                i += length
                continue
            }
            i += 1
        }
        bytes.removeFirst(min(i, bytes.count))
        return keys
    }
}
