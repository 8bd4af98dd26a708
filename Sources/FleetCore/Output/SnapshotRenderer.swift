import Foundation

/// Turns a snapshot into the `fleet ps` table or its JSON twin.
public enum SnapshotRenderer {
    /// The `ps --json` document as a JSON value (`FleetDocument` is the one type behind it).
    public static func json(_ snapshot: FleetSnapshot, includeStrays: Bool = true) throws -> JSON {
        try OrderedJSONEncoder().encode(FleetDocument(snapshot, includeStrays: includeStrays))
    }

    public static func json(_ row: AgentRow) throws -> JSON { try OrderedJSONEncoder().encode(row) }

    public static func json(_ stray: StrayRow) throws -> JSON { try OrderedJSONEncoder().encode(stray) }

    /// `now` dates the backoff countdowns (tests pass the snapshot's own time).
    public static func table(_ snapshot: FleetSnapshot, width: Int?, color: Bool, now: Date? = nil) -> String {
        let probed = snapshot.agents.contains { $0.probe != nil }
        let modelled = snapshot.agents.contains { $0.model != nil || $0.effort != nil }
        var columns: [Table.Column] = [.init("AGENT"), .init("RUNTIME")]
        if modelled { columns.append(.init("MODEL")) }
        columns += [.init("SYSTEMD"), .init("PANE"), .init("PID"), .init("CMD"), .init("IDLE"), .init("HEARTBEAT"), .init("STATUS")]
        if probed { columns.append(.init("PROBE")) }
        // Only where a daemon supervises: what it makes of each agent, and its restarts in the window.
        let supervised = snapshot.agents.contains { $0.lifecycle != nil }
        if supervised { columns += [.init("LIFECYCLE"), .init("RESTARTS")] }
        columns.append(.init("FLAGS", shrinkable: true))
        let now = now ?? Date()
        let rows = snapshot.agents.map { row -> [Table.Cell] in
            let systemd: String
            if let active = row.systemdActive {
                systemd = (active ? "active" : "inactive") + (row.systemdEnabled == true ? "/enabled" : "/disabled")
            } else {
                systemd = "n/a"
            }
            let pane: Table.Cell
            switch row.session {
            case .running:
                switch row.runState {
                case .stopped?: pane = Table.Cell(RunState.stopped.rawValue, color: "31")
                // Something else answers the heartbeat (the demo's canary): that is DRIFT, shown
                // in FLAGS, and the pane is alive; "not-running" is for a silent pane.
                case .notRunning? where !row.healthy: pane = Table.Cell(RunState.notRunning.rawValue, color: "31")
                default: pane = Table.Cell("alive", color: "32")
                }
            case .dead:
                let why = row.paneExitSignal.map(PaneFormat.signalName) ?? row.paneExitStatus.map(String.init)
                pane = Table.Cell("dead" + (why.map { "(\($0))" } ?? ""), color: "31")
            case .missing: pane = Table.Cell("missing", color: "31")
            case .noServer: pane = Table.Cell("no-server", color: "31")
            }
            let hb = row.heartbeat
            let hbText: String, hbColor: String
            switch hb.health {
            case .healthy: (hbText, hbColor) = ("healthy \(Duration.compact(ms: hb.ageMs))", "32")
            case .stale: (hbText, hbColor) = ("stale \(Duration.compact(ms: hb.ageMs))", "31")
            // Its age would be negative: the word says it all.
            case .future: (hbText, hbColor) = ("future", "31")
            case .unknown: (hbText, hbColor) = ("unknown", "33")
            }
            var cells: [Table.Cell] = [Table.Cell(row.name, color: row.healthy ? nil : "1"), Table.Cell(row.runtime.rawValue)]
            if modelled {
                cells.append(Table.Cell([row.model, row.effort].compactMap { $0 }.joined(separator: "/")))
            }
            cells += [
                Table.Cell(systemd),
                pane,
                Table.Cell(row.panePid.map(String.init) ?? "-"),
                // A dead pane's command is the first word tmux saw of its start command, which for
                // mosaic's own launch line is the PATH assignment: no program name, so a dash.
                Table.Cell(row.processCommand ?? row.paneCommand.flatMap { $0.contains("=") ? nil : $0 } ?? "-"),
                Table.Cell(row.idleSeconds.map(Duration.compact(seconds:)) ?? "-"),
                Table.Cell(hbText, color: hbColor),
                // Only what a healthy heartbeat says: a stale "busy" is old news.
                Table.Cell(row.state.map { $0.rawValue + (row.waitingFor.map { "/\($0.rawValue)" } ?? "") } ?? "-",
                           color: row.state == .waiting ? "33" : nil),
            ]
            if probed {
                cells.append(row.probe.map { $0.answered ? Table.Cell("\($0.latencyMs ?? 0)ms", color: "32") : Table.Cell("no answer", color: "31") }
                             ?? "-")
            }
            if supervised {
                if let life = row.lifecycle {
                    let color = life.state == .running ? "32" : life.state == .failed ? "31" : "33"
                    cells += [Table.Cell(life.cell(now: now), color: color), Table.Cell(String(life.restarts))]
                } else {
                    cells += [Table.Cell("-"), Table.Cell("-")]
                }
            }
            var flags: [String] = []
            if row.driftFlag == true { flags.append("DRIFT(\(row.processCommand ?? row.paneCommand ?? "?"))") }
            if row.bootEnableWarning == true { flags.append("BOOT-ENABLE") }
            if row.session == .missing { flags.append("MISSING") }
            if row.silentBusy { flags.append("SILENT(\(Duration.compact(seconds: row.idleSeconds ?? 0)))") }
            cells.append(Table.Cell(flags.joined(separator: " "), color: flags.isEmpty ? nil : "33"))
            return cells
        }
        var out = "tenant \(snapshot.tenant) · host \(snapshot.host) · socket \(snapshot.socket) · systemd "
            + (snapshot.systemdAvailable ? "user manager" : "n/a") + (snapshot.tmuxServerRunning ? "" : " · tmux server not running")
            + (snapshot.daemonPid.map { " · daemon \($0)" } ?? "")
            + (snapshot.recovery.map { " · recovering \($0.done)/\($0.total)" } ?? "")
            + "\n"
        out += Table(columns: columns, rows: rows).rendered(width: width, color: color)
        if !snapshot.strays.isEmpty {
            out += "\nstrays (sessions on the socket that the roster does not name):\n"
            out += Table(columns: [.init("SESSION"), .init("PANE"), .init("PID"), .init("CMD"), .init("IDLE")],
                         rows: snapshot.strays.map { s in
                             [Table.Cell(s.name), Table.Cell(s.paneAlive ? "alive" : "dead"), Table.Cell(s.panePid.map(String.init) ?? "-"),
                              Table.Cell(s.paneCommand), Table.Cell(s.idleSeconds.map(Duration.compact(seconds:)) ?? "-")]
                         }).rendered(width: width, color: color)
        }
        let unhealthy = snapshot.agents.filter { !$0.healthy }
        out += "\n\(snapshot.agents.count - unhealthy.count)/\(snapshot.agents.count) healthy"
        if !unhealthy.isEmpty {
            out += "; " + unhealthy.map { row in
                let why = row.problems.filter(\.explainsUnhealthy).map(\.sentence) + [row.lifecycle?.failureSentence].compactMap { $0 }
                return "\(row.name): \(why.joined(separator: ", "))"
            }.joined(separator: "; ")
        }
        return out + "\n"
    }
}

extension Duration {
    /// 0s, 12s, 4m, 3h, 2d: idle times are whole seconds, so never "0ms".
    public static func compact(seconds: Int) -> String { seconds < 1 ? "0s" : compact(ms: seconds * 1000) }

    /// 850ms, 12s, 4m, 3h, 2d — short enough for a table cell.
    public static func compact(ms: Int?) -> String {
        guard let ms else { return "-" }
        if ms < 1000 { return "\(ms)ms" }
        let s = ms / 1000
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }
}
