import FleetCore
import Foundation

/// The lifecycle events between two snapshots of the same fleet (pure). The first snapshot of a
/// daemon has no predecessor: its agents are adopted as they are, and nothing is reported per agent.
public enum SnapshotChanges {
    public static func events(from previous: FleetSnapshot, to current: FleetSnapshot, now: Date) -> [JournalEvent] {
        let before = Dictionary(previous.agents.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var events: [JournalEvent] = []
        func event(_ row: AgentRow, _ kind: EventKind, _ detail: EventDetail) {
            events.append(JournalEvent(ts: now, tenant_id: current.tenant, host: current.host, agent: row.name, kind: kind,
                                       detail: detail, actor: "daemon"))
        }
        for row in current.agents {
            guard let old = before[row.name] else { continue }
            if row.session != old.session || row.panePid != old.panePid && row.session == .running {
                switch row.session {
                case .running:
                    event(row, .agentStarted, EventDetail(pid: row.panePid, from: old.session.rawValue))
                case .dead:
                    event(row, .agentExited, EventDetail(
                        status: row.paneExitStatus, signal: row.paneExitSignal.map(PaneFormat.signalName),
                        lastOutput: row.lastOutput?.last, pid: row.panePid))
                case .missing, .noServer:
                    event(row, .agentVanished, EventDetail(from: old.session.rawValue, to: row.session.rawValue))
                }
            }
            let (was, now) = (activity(old), activity(row))
            if was != now, row.session == .running, old.session == .running {
                event(row, .stateChanged, EventDetail(from: was, to: now))
            }
        }
        return events
    }

    /// What the heartbeat says the agent is doing: its reported state when healthy
    /// (`ok`, `busy`, `waiting:approval` …), else the heartbeat's health (`stale`, `unknown`).
    static func activity(_ row: AgentRow) -> String {
        guard row.heartbeat.health == .healthy else { return row.heartbeat.health.rawValue }
        let state = row.state?.rawValue ?? row.heartbeat.status?.rawValue ?? "ok"
        return row.waitingFor.map { "\(state):\($0.rawValue)" } ?? state
    }
}

extension EventDetail {
    init(pid: Int32?, from: String?) {
        self.init(from: from, pid: pid)
    }
}
