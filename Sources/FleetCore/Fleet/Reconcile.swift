import Foundation

/// What the operator (or, later, the supervisor) asks of the fleet.
public enum Intent: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Make these agents run; running ones are left as they are.
    case up([String])
    /// Stop these agents; the holder and the tmux server stay.
    case down([String])
    /// Stop every roster agent, then the holder and the tmux server unless strays still run there.
    case downAll
    /// Stop these agents, then start them again; the tmux server stays.
    case restart([String])

    public var description: String {
        switch self {
        case .up(let names): return "up \(names.joined(separator: " "))"
        case .down(let names): return "down \(names.joined(separator: " "))"
        case .downAll: return "down all"
        case .restart(let names): return "restart \(names.joined(separator: " "))"
        }
    }
}

/// What was seen of the world, once, before deciding: the sessions on the fleet's socket and,
/// where systemd runs the fleet, the mosaic units. Nothing else goes into a decision.
public struct Observation: Sendable, Equatable, Codable {
    /// One session on the fleet's socket (its first pane: agent sessions have one).
    public struct Session: Sendable, Equatable, Codable {
        public var name: String
        public var alive: Bool
        /// `nil` where the source does not know it (a `FleetSnapshot` carries no pane id).
        public var paneId: String?
        public var pid: Int32?

        public init(name: String, alive: Bool, paneId: String? = nil, pid: Int32? = nil) {
            self.name = name
            self.alive = alive
            self.paneId = paneId
            self.pid = pid
        }
    }

    /// A unit's activity as far as a decision goes.
    public enum UnitActivity: String, Sendable, Equatable, Codable {
        /// Active, or on its way there (activating, reloading).
        case active
        /// Failed: `reset-failed` before starting it, so its start limit does not refuse the start.
        case failed
        case inactive
    }

    /// Every session on the socket; `nil`: no tmux server answers there.
    public var sessions: [Session]?
    /// Mosaic units by name; `nil`: the fleet runs on tmux alone (no systemd user manager, or
    /// `MOSAIC_SYSTEMD=off`). A unit not listed is inactive.
    public var units: [String: UnitActivity]?

    public init(sessions: [Session]?, units: [String: UnitActivity]?) {
        self.sessions = sessions
        self.units = units
    }

    /// From one `list-panes -a` and one `list-units` (`nil` for a plane not in use).
    public init(panes: [PaneInfo]?, units: [UnitState]?) {
        var seen: Set<String> = []
        self.sessions = panes.map { panes in
            panes.compactMap { pane in
                guard seen.insert(pane.sessionName).inserted else { return nil }
                return Session(name: pane.sessionName, alive: !pane.dead, paneId: pane.paneId, pid: pane.pid)
            }
        }
        self.units = units.map { units in
            Dictionary(units.map { ($0.name, $0.isActive ? .active : $0.active == "failed" ? .failed : .inactive) },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    /// From the joined snapshot. It does not carry the holder session (so a plan may ask for it
    /// again, which is harmless), nor which units failed (`systemdActive` per agent only), nor
    /// the holder unit: the caller passes that one, because without it a running server could
    /// not be told from an unmanaged one (ignored without systemd).
    public init(snapshot: FleetSnapshot, holderUnit: UnitActivity) {
        var units: [String: UnitActivity]?
        if snapshot.systemdAvailable {
            var known = Dictionary(snapshot.agents.map { (FleetFiles.agentUnit($0.name), $0.systemdActive == true ? UnitActivity.active : .inactive) },
                                   uniquingKeysWith: { a, _ in a })
            known[FleetFiles.holderUnit] = holderUnit
            units = known
        }
        guard snapshot.tmuxServerRunning else {
            self.init(sessions: nil, units: units)
            return
        }
        let agents = snapshot.agents.compactMap { row in
            row.paneAlive.map { Session(name: row.name, alive: $0, pid: row.panePid) }
        }
        let strays = snapshot.strays.map { Session(name: $0.name, alive: $0.paneAlive, pid: $0.panePid) }
        self.init(sessions: agents + strays, units: units)
    }

    public var serverRunning: Bool { sessions != nil }
    public var throughSystemd: Bool { units != nil }

    public func session(_ name: String) -> Session? { sessions?.first { $0.name == name } }

    public func unit(_ name: String) -> UnitActivity { units?[name] ?? .inactive }

    /// The world as it will be once `plan` ran, as far as the plan decides it: killed sessions
    /// gone, stopped units inactive. Lets one plan stop agents and then start them again.
    func after(_ plan: [Action]) -> Observation {
        var next = self
        for action in plan {
            switch action {
            case .killSession(let agent): next.sessions?.removeAll { $0.name == agent }
            case .stopUnit(let unit): if next.units?[unit] == .active { next.units?[unit] = .inactive }
            default: break
            }
        }
        return next
    }
}

/// Why an agent is left as it is.
public enum KeepReason: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Its pane is alive (tmux alone).
    case paneAlive(paneId: String?, pid: Int32?)
    /// Its unit is active and its pane alive.
    case unitActive

    public var description: String {
        switch self {
        case .paneAlive(let paneId, let pid): return "pane \(paneId ?? "?") pid \(pid.map(String.init) ?? "?")"
        case .unitActive: return "unit active, pane alive"
        }
    }

    /// The DETAIL column of `fleet up` (through systemd it has always been empty).
    public var outcomeDetail: String? {
        if case .paneAlive = self { return description }
        return nil
    }
}

/// Why a plan does nothing at all.
public enum Refusal: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A tmux server answers on the socket that the holder unit does not run: the holder's
    /// `tmux -D` would be a mere client that fails.
    case unmanagedServer(socket: String)

    public var error: LaunchError {
        switch self {
        case .unmanagedServer(let socket): return .unmanagedServer(socket: socket)
        }
    }

    public var description: String { error.description }
}

/// One step of a plan. Steps name agents and units, never their command lines, so a journal
/// of plans holds no secrets; the executor looks the agent up in the roster.
public enum Action: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Create the holder session; with no server on the socket this starts the server.
    case createHolder
    /// Create the session of an agent that has none.
    case startAgent(agent: String)
    /// Replace an agent's dead pane: kill its session, create it again.
    case restartDeadPane(agent: String)
    /// Kill an agent's session, alive or dead.
    case killSession(agent: String)
    /// Remove an agent's heartbeat and runtime files once its writers have exited.
    case removeHeartbeat(agent: String)
    /// Stop the tmux server and remove the socket file it leaves behind.
    case killServer
    case resetFailed(unit: String)
    case startUnit(unit: String)
    /// Restart a unit that is active while its agent's session is gone (ExecStop, then ExecStart).
    case restartUnit(unit: String)
    case stopUnit(unit: String)
    /// Nothing to do for this agent.
    case leaveRunning(agent: String, reason: KeepReason)
    /// The server stays: sessions the roster does not name still run there.
    case keepServer(strays: [String])
    /// Nothing may be done; the plan holds this step alone.
    case refuse(Refusal)

    /// The agent this step is about, if one.
    public var agent: String? {
        switch self {
        case .startAgent(let agent), .restartDeadPane(let agent), .killSession(let agent), .removeHeartbeat(let agent),
             .leaveRunning(let agent, _):
            return agent
        case .resetFailed(let unit), .startUnit(let unit), .restartUnit(let unit), .stopUnit(let unit):
            return Self.agentName(ofUnit: unit)
        case .createHolder, .killServer, .keepServer, .refuse:
            return nil
        }
    }

    /// `mosaic-agent@NAME.service` → NAME; `nil` for any other unit.
    static func agentName(ofUnit unit: String) -> String? {
        let prefix = "mosaic-agent@", suffix = ".service"
        guard unit.hasPrefix(prefix), unit.hasSuffix(suffix), unit.count > prefix.count + suffix.count else { return nil }
        return String(unit.dropFirst(prefix.count).dropLast(suffix.count))
    }

    public var description: String {
        switch self {
        case .createHolder: return "create the holder session"
        case .startAgent(let agent): return "start \(agent)"
        case .restartDeadPane(let agent): return "restart the dead pane of \(agent)"
        case .killSession(let agent): return "kill the session of \(agent)"
        case .removeHeartbeat(let agent): return "remove the heartbeat and runtime files of \(agent)"
        case .killServer: return "kill the tmux server"
        case .resetFailed(let unit): return "reset-failed \(unit)"
        case .startUnit(let unit): return "start \(unit)"
        case .restartUnit(let unit): return "restart \(unit)"
        case .stopUnit(let unit): return "stop \(unit)"
        case .leaveRunning(let agent, let reason): return "leave \(agent) running (\(reason))"
        case .keepServer(let strays): return "keep the tmux server: stray sessions run there: \(strays.joined(separator: ", "))"
        case .refuse(let refusal): return "refuse: \(refusal)"
        }
    }
}

/// The one decision of what to do: pure, no I/O. `fleet up`, `down` and `restart` execute its
/// plan once; the supervisor runs it on every observation.
public enum Reconciler {
    /// The ordered steps that bring the observed world to the intent. Agent steps follow the
    /// order of the intent's names; steps of one kind stand together so they run as one call.
    public static func reconcile(roster: Roster, observation: Observation, intent: Intent) -> [Action] {
        switch intent {
        case .up(let names):
            return up(names, roster: roster, observation)
        case .down(let names):
            return stop(names, observation)
        case .downAll:
            return stop(roster.agents.map(\.name), observation) + stopServer(roster: roster, observation)
        case .restart(let names):
            if let refusal = refusal(roster: roster, observation) { return [.refuse(refusal)] }
            let stopping = stop(names, observation)
            return stopping + up(names, roster: roster, observation.after(stopping))
        }
    }

    static func refusal(roster: Roster, _ seen: Observation) -> Refusal? {
        guard seen.throughSystemd, seen.serverRunning, seen.unit(FleetFiles.holderUnit) != .active else { return nil }
        return .unmanagedServer(socket: roster.socketName)
    }

    static func up(_ names: [String], roster: Roster, _ seen: Observation) -> [Action] {
        guard seen.throughSystemd else {
            // tmux alone: the holder session keeps the server up; creating it starts the server.
            var plan: [Action] = seen.session(roster.holderSession) == nil ? [.createHolder] : []
            for name in names {
                switch seen.session(name) {
                case let session? where session.alive:
                    plan.append(.leaveRunning(agent: name, reason: .paneAlive(paneId: session.paneId, pid: session.pid)))
                case _?: plan.append(.restartDeadPane(agent: name))
                case nil: plan.append(.startAgent(agent: name))
                }
            }
            return plan
        }
        if let refusal = refusal(roster: roster, seen) { return [.refuse(refusal)] }
        var plan: [Action] = []
        if seen.serverRunning, seen.session(roster.holderSession)?.alive != true { plan.append(.createHolder) }
        var toStart: [String] = [], toRestart: [String] = []
        for name in names {
            let unit = FleetFiles.agentUnit(name)
            let active = seen.unit(unit) == .active
            if active && seen.session(name)?.alive == true {
                plan.append(.leaveRunning(agent: name, reason: .unitActive))
            } else if active {
                // The unit believes the agent runs but its session is gone: restart runs
                // ExecStop then ExecStart, which recreates the session.
                toRestart.append(unit)
            } else {
                toStart.append(unit)
            }
        }
        let pending = toStart + toRestart
        guard !pending.isEmpty else { return plan }
        plan += ([FleetFiles.holderUnit] + pending).filter { seen.unit($0) == .failed }.map { .resetFailed(unit: $0) }
        // The holder is started with the agents (a no-op when it runs): they are bound to it.
        plan += ([FleetFiles.holderUnit] + toStart).map { .startUnit(unit: $0) }
        plan += toRestart.map { .restartUnit(unit: $0) }
        return plan
    }

    /// Stops agents: their sessions first (also those started without systemd or left by a unit
    /// whose stop failed), then their units (whose stop then finds the session gone and only
    /// cleans up), then their files.
    static func stop(_ names: [String], _ seen: Observation) -> [Action] {
        var plan = names.filter { seen.session($0) != nil }.map { Action.killSession(agent: $0) }
        plan += names.map(FleetFiles.agentUnit).filter { seen.unit($0) == .active }.map { .stopUnit(unit: $0) }
        plan += names.map { .removeHeartbeat(agent: $0) }
        return plan
    }

    static func stopServer(roster: Roster, _ seen: Observation) -> [Action] {
        let named = Set(roster.agents.map(\.name)).union([roster.holderSession])
        let strays = Set((seen.sessions ?? []).map(\.name)).subtracting(named).sorted()
        guard strays.isEmpty else { return [.keepServer(strays: strays)] }
        var plan: [Action] = seen.unit(FleetFiles.holderUnit) == .active ? [.stopUnit(unit: FleetFiles.holderUnit)] : []
        if seen.serverRunning { plan.append(.killServer) }
        return plan
    }
}
