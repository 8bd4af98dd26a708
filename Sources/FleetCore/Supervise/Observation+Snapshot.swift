import Foundation

extension FleetObservation {
    /// What the supervisor needs of one batched snapshot (the periodic backstop, or the listing
    /// taken after a pushed death).
    public init(snapshot: FleetSnapshot) {
        self.init(serverRunning: snapshot.tmuxServerRunning, agents: snapshot.agents.map(AgentObservation.init(row:)))
    }
}

extension AgentObservation {
    public init(row: AgentRow) {
        let pane: PaneObservation
        switch row.session {
        case .running:
            pane = .running
        case .dead:
            pane = .dead(AgentExit(status: row.paneExitStatus, signal: row.paneExitSignal,
                                   lastOutputLine: row.lastOutput?.last { !$0.isEmpty }))
        case .missing, .noServer:
            pane = .absent
        }
        let health: HealthObservation
        if row.healthy {
            health = .healthy
        } else if row.silentBusy {
            health = .hung(.silentWhileBusy)
        } else if row.probe?.answered == false {
            health = .hung(.probeUnanswered)
        } else if row.heartbeat.health == .stale {
            health = .hung(.heartbeatStale)
        } else {
            health = .unknown
        }
        self.init(name: row.name, pane: pane, health: health)
    }
}
