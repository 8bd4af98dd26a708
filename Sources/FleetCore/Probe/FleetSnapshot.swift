import Foundation

/// Everything the probes read, one value per plane; `nil` where a plane could not be read.
public struct PlaneReadings: Sendable {
    /// Every pane on the fleet's socket; `nil`: no tmux server is running there.
    public var panes: [PaneInfo]?
    /// `nil`: no systemd user manager (the table says n/a).
    public var units: [UnitState]?
    /// Units enabled through a `.wants` directory; `nil` with `units`.
    public var enabledUnits: Set<String>?
    public var linger: Bool?
    public var processes: [Int32: ProcessSample]
    public var heartbeats: [String: Heartbeat]
    /// What each dead agent pane last showed (non-empty lines, oldest first), by agent.
    public var lastOutput: [String: [String]]
    /// Probe outcomes by agent, only when `--probe` ran.
    public var probes: [String: ProbeOutcome]?
    /// Why a reachable systemd could not be read, if it could not.
    public var systemdError: String?
    /// The fleet daemon's last lifecycle report, if one is on file (believed only while current).
    public var lifecycle: LifecycleReport?

    public init(panes: [PaneInfo]?, units: [UnitState]?, enabledUnits: Set<String>?, linger: Bool?,
                processes: [Int32: ProcessSample], heartbeats: [String: Heartbeat], lastOutput: [String: [String]] = [:],
                probes: [String: ProbeOutcome]? = nil, systemdError: String? = nil, lifecycle: LifecycleReport? = nil) {
        self.lifecycle = lifecycle
        self.lastOutput = lastOutput
        self.systemdError = systemdError
        self.panes = panes
        self.units = units
        self.enabledUnits = enabledUnits
        self.linger = linger
        self.processes = processes
        self.heartbeats = heartbeats
        self.probes = probes
    }
}

/// The answer to one probe.
public struct ProbeOutcome: Sendable, Equatable {
    public var nonce: String
    public var answered: Bool
    public var latencyMs: Int?

    public init(nonce: String, answered: Bool, latencyMs: Int?) {
        self.nonce = nonce
        self.answered = answered
        self.latencyMs = latencyMs
    }
}

/// The heartbeat as a row shows it.
public struct HeartbeatView: Sendable, Equatable {
    public var ts: String?
    public var pid: Int32?
    /// The status the file says, healthy or not (`state` on the row is the healthy one only).
    public var status: ReportedState?
    public var health: HeartbeatHealth
    public var ageMs: Int?

    public init(ts: String?, pid: Int32?, status: ReportedState?, health: HeartbeatHealth, ageMs: Int?) {
        self.ts = ts
        self.pid = pid
        self.status = status
        self.health = health
        self.ageMs = ageMs
    }
}

/// Where an agent's tmux session stands.
public enum SessionState: String, Sendable, Codable {
    case running, dead, missing, noServer = "no-server"
}

/// One roster agent joined across the planes; `FleetDocument` writes it as a `fleet ps --json` object.
public struct AgentRow: Sendable, Equatable {
    public static let kind = "agent"
    public var name: String
    public var tenant_id: String
    public var host: String
    public var runtime: RuntimeKind
    public var role: String?
    public var model: String?
    public var effort: String?
    public var systemdActive: Bool?
    public var systemdEnabled: Bool?
    public var systemdState: SystemdState?
    public var session: SessionState
    public var paneAlive: Bool?
    public var panePid: Int32?
    public var paneCommand: String?
    public var paneExitStatus: Int32?
    /// The signal that ended a dead pane's process, if one did.
    public var paneExitSignal: Int32?
    /// A dead pane's last lines of output: why the runtime ended, often.
    public var lastOutput: [String]?
    public var processCommand: String?
    public var processState: ProcessState?
    public var idleSeconds: Int?
    public var heartbeat: HeartbeatView
    public var driftFlag: Bool?
    public var bootEnableWarning: Bool?
    public var probe: ProbeOutcome?
    /// Whether the runtime process really runs; `nil` without a pane.
    public var runState: RunState?
    /// The process that stands for the runtime (the pane's process, or the runtime under a wrapper).
    public var runtimeProcess: RuntimeProcess?
    /// What the runtime reports it is doing, from a healthy heartbeat only.
    public var state: ReportedState?
    /// With `waiting`: `input` or `approval`, where the runtime says which.
    public var waitingFor: WaitingFor?
    /// Busy, from a runtime whose screen moves while it works, with the screen unchanged for
    /// the roster's `silentBusySeconds`: hung, or its busy report is stale.
    public var silentBusy: Bool
    /// Healthy means a recent heartbeat from a live pane (and, when probed, an answer), and not
    /// silent while busy.
    public var healthy: Bool
    /// Why the agent is not healthy, or what else needs attention.
    public var problems: [Problem]
    /// What the fleet daemon's supervisor makes of the agent; nil when no daemon reports.
    public var lifecycle: AgentLifecycle? = nil
}

/// A session on the fleet's socket that the roster does not name.
public struct StrayRow: Sendable, Equatable {
    public static let kind = "stray"
    public var name: String
    public var tenant_id: String
    public var host: String
    public var paneAlive: Bool
    public var panePid: Int32?
    public var paneCommand: String
    public var idleSeconds: Int?
}

/// The whole fleet at one moment: the pure join of the planes.
public struct FleetSnapshot: Sendable, Equatable, Codable {
    public var tenant: String
    public var host: String
    public var socket: String
    public var systemdAvailable: Bool
    public var tmuxServerRunning: Bool
    public var agents: [AgentRow]
    public var strays: [StrayRow]
    public var warnings: [String]
    /// The pid of the fleet daemon whose current report the rows' `lifecycle` comes from.
    public var daemonPid: Int32? = nil
    /// `recovering k/N` after a mass death, as the daemon reports it.
    public var recovery: LifecycleReport.Recovery? = nil

    public var allHealthy: Bool { agents.allSatisfy(\.healthy) }

    /// Joins the readings for `roster` as of `now`. No I/O happens here.
    public static func join(roster: Roster, readings r: PlaneReadings, now: Date) -> FleetSnapshot {
        var paneBySession: [String: PaneInfo] = [:]
        for pane in r.panes ?? [] where paneBySession[pane.sessionName] == nil { paneBySession[pane.sessionName] = pane }
        let unitByName = Dictionary((r.units ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let nowEpoch = now.timeIntervalSince1970

        // A report the daemon stopped refreshing is not news: it is dead or stuck.
        var warnings = r.systemdError.map { ["systemd could not be read: \($0)"] } ?? []
        let report = r.lifecycle.flatMap { $0.isCurrent(now: now) ? $0 : nil }
        if let stale = r.lifecycle, report == nil {
            let age = Timestamp.parse(stale.updated).map { Duration.compact(ms: Int(now.timeIntervalSince($0) * 1000)) } ?? "?"
            warnings.append("the fleet daemon (pid \(stale.daemonPid)) last reported \(age) ago: it is not running or is stuck; "
                + "restarts are not happening (`mosaic fleet up` starts it, its log is in the fleet directory)")
        }
        let rows = roster.agents.map { spec -> AgentRow in
            let pane = paneBySession[spec.name]
            let session: SessionState = r.panes == nil ? .noServer : pane == nil ? .missing : pane!.dead ? .dead : .running
            let process = pane.flatMap { $0.dead ? nil : $0.pid }.flatMap { r.processes[$0] }
            // tmux 3.3a marks a pane dead when its terminal closes, and only learns the exit status
            // when it reaps the process; until then the zombie in /proc holds it (measured: aider
            // after /exit stays unreaped until the server gets another SIGCHLD).
            let exitStatus = pane?.dead == true
                ? pane?.deadStatus ?? pane?.pid.flatMap { r.processes[$0] }.flatMap(\.exitStatus) : nil
            let exitSignal = pane?.dead == true
                ? pane?.deadSignal ?? pane?.pid.flatMap { r.processes[$0] }.flatMap(\.exitSignal) : nil
            let unitName = FleetFiles.agentUnit(spec.name)
            var systemdActive: Bool?, systemdEnabled: Bool?, systemdState: SystemdState?
            if r.units != nil {
                let unit = unitByName[unitName]
                systemdActive = unit?.isActive ?? false
                systemdEnabled = r.enabledUnits?.contains(unitName) ?? false
                systemdState = unit.map { SystemdState(active: $0.active, sub: $0.sub) } ?? .notLoaded
            }
            let beat = r.heartbeats[spec.name]
            let health = HeartbeatHealth.of(beat, now: now, interval: roster.heartbeatIntervalSeconds)
            let view = HeartbeatView(ts: beat.map { Timestamp.format($0.ts) }, pid: beat?.pid, status: beat?.reportedState,
                                     health: health, ageMs: beat.map { max(0, Int((now.timeIntervalSince($0.ts) * 1000).rounded())) })
            let adapter = Runtimes.of(spec.runtime)
            let runsAs = process?.comm ?? (session == .running ? pane?.currentCommand : nil)
            // The runtime may run under a wrapper (`sh -c`, a node launcher): judged on the tree.
            let liveness = process.map { RuntimeLiveness.judge($0, adapter: adapter) }
            var drift = session == .running ? adapter.isDrift(paneCommand: runsAs) : nil
            if let liveness, adapter.expectedCommands != nil {
                if case .notRunning = liveness { drift = true } else { drift = false }
            }
            var bootWarning: Bool?
            if let active = systemdActive {
                bootWarning = active && (systemdEnabled == false || r.linger == false)
            }
            let probe = r.probes?[spec.name]

            var problems: [Problem] = []
            switch session {
            case .noServer: problems.append(.noServer)
            case .missing: problems.append(.noSession)
            case .dead:
                problems.append(exitSignal.map { .killed(signal: $0) } ?? .exited(status: exitStatus))
                if let last = r.lastOutput[spec.name]?.last { problems.append(.lastOutput(last)) }
            case .running: break
            }
            // Not running explains an unhealthy agent; with a healthy heartbeat (something else in
            // the pane answers) it is plain drift, below.
            var notRunning = false
            switch liveness {
            case .stopped(let node)?:
                let own = node.pid == process?.pid
                problems.append(.processStopped(command: own ? nil : node.comm, pid: own ? nil : node.pid))
            case .notRunning(let root)? where health != .healthy:
                problems.append(.runtimeNotRunning(paneRuns: root))
                notRunning = true
            default: break
            }
            switch health {
            case .unknown: problems.append(.noHeartbeat)
            case .stale: problems.append(.heartbeatStale)
            case .future: problems.append(.heartbeatFuture)
            case .healthy: break
            }
            if let probe, !probe.answered { problems.append(.probeUnanswered) }
            let idle = pane?.windowActivity.map { max(0, Int(nowEpoch) - $0) }
            let silentBusy = session == .running && health == .healthy && beat?.reportedState == .busy && adapter.animatesWhileBusy
                && (idle ?? 0) >= roster.silentBusySeconds
            if silentBusy, let idle { problems.append(.silentBusy(seconds: idle)) }
            if drift == true, !notRunning { problems.append(.drift(runsAs: runsAs)) }
            if bootWarning == true {
                problems.append(systemdEnabled == false ? .notEnabledAtBoot : .lingerOff)
            }
            // The agent unit is a oneshot that stays active while the pane it made dies: say so
            // rather than let the SYSTEMD column contradict the PANE column silently.
            if systemdActive == true && session != .running { problems.append(.unitActiveWithoutPane) }
            let stopped: Bool
            if case .stopped? = liveness { stopped = true } else { stopped = process?.isStopped == true }
            let healthy = session == .running && health == .healthy && (probe?.answered ?? true) && !stopped && !silentBusy
            let reported = health == .healthy ? beat : nil
            var runState: RunState?
            switch session {
            case .dead: runState = .exited
            case .running: runState = liveness?.runState
            case .missing, .noServer: runState = nil
            }

            return AgentRow(
                name: spec.name, tenant_id: roster.tenant, host: roster.host, runtime: spec.runtime,
                role: spec.role, model: spec.model, effort: spec.effort,
                systemdActive: systemdActive, systemdEnabled: systemdEnabled, systemdState: systemdState,
                session: session, paneAlive: pane.map { !$0.dead }, panePid: pane?.pid, paneCommand: pane?.currentCommand,
                paneExitStatus: exitStatus, paneExitSignal: exitSignal,
                lastOutput: session == .dead ? r.lastOutput[spec.name] : nil,
                processCommand: process?.comm, processState: process.map { ProcessState(rawValue: $0.state) },
                idleSeconds: idle,
                heartbeat: view, driftFlag: drift, bootEnableWarning: bootWarning, probe: probe,
                runState: runState, runtimeProcess: liveness?.process.map(RuntimeProcess.init), state: reported?.reportedState,
                waitingFor: reported?.waitingFor,
                silentBusy: silentBusy, healthy: healthy, problems: problems,
                lifecycle: report?.agents[spec.name])
        }

        let named = Set(roster.agents.map(\.name)).union([roster.holderSession])
        var seen = Set<String>()
        let strays = (r.panes ?? []).compactMap { pane -> StrayRow? in
            guard !named.contains(pane.sessionName), seen.insert(pane.sessionName).inserted else { return nil }
            return StrayRow(name: pane.sessionName, tenant_id: roster.tenant, host: roster.host, paneAlive: !pane.dead,
                            panePid: pane.pid, paneCommand: pane.currentCommand,
                            idleSeconds: pane.windowActivity.map { max(0, Int(nowEpoch) - $0) })
        }
        return FleetSnapshot(tenant: roster.tenant, host: roster.host, socket: roster.socketName,
                             systemdAvailable: r.units != nil, tmuxServerRunning: r.panes != nil, agents: rows, strays: strays,
                             warnings: warnings, daemonPid: report?.daemonPid, recovery: report?.recovery)
    }
}
