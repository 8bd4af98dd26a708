import Foundation

/// What happened to one agent during up, down or restart.
public struct AgentOutcome: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable {
        case started, alreadyRunning = "already-running", restarted, stopped, notRunning = "not-running", failed
    }
    public var name: String
    public var tenant_id: String
    public var host: String
    public var action: Action
    public var via: String
    public var detail: String?
}

/// Progress of a long operation, for a terminal to show.
public struct Progress: Sendable {
    public var done: Int
    public var total: Int
    public var phase: String
}

/// Starts and stops agents: through systemd units where a user manager runs, else tmux directly.
public struct Launcher: Sendable {
    public let context: FleetContext
    public let roster: Roster
    public let tmux: Tmux
    public let useSystemd: Bool

    public init(context: FleetContext, roster: Roster, useSystemd: Bool? = nil) throws {
        self.context = context
        self.roster = roster
        self.tmux = try context.tmux(for: roster, timeout: .seconds(20))
        self.useSystemd = useSystemd ?? context.systemctl.isReachable
    }

    var via: String { useSystemd ? "systemd" : "tmux" }

    /// Writes the fleet's tmux config and run directory (mode 0700).
    public func prepareHome() throws {
        try FileIO.makeDirectory(context.paths.fleetDirectory, mode: 0o755)
        try FileIO.makeDirectory(context.paths.runDirectory, mode: 0o700)
        let config = FleetFiles.tmuxConfig()
        if FileIO.readSmall(context.paths.tmuxConfig) != config {
            try FileIO.writeAtomically(config, to: context.paths.tmuxConfig)
        }
    }

    /// Starts the tmux server with the holder session, if none runs (tmux-only mode).
    public func ensureServer() async throws {
        if try await tmux.listPanes() != nil {
            if try await !tmux.hasSession(roster.holderSession) { try await createHolder() }
            return
        }
        try await createHolder()
    }

    func createHolder() async throws {
        do {
            try await tmux.newSessions([NewSession(name: roster.holderSession, command: .argv(["sleep", "infinity"]),
                                                   workdir: "/", width: 80, height: 24)])
        } catch TmuxError.duplicateSession {}
    }

    // MARK: up

    public func up(_ agents: [AgentSpec], progress: @Sendable (Progress) -> Void = { _ in }) async throws -> [AgentOutcome] {
        try prepareHome()
        let launch = RuntimeLaunch(context: context, roster: roster)
        // Refuse before anything starts: a runtime that cannot be found is an error now, not a dead pane later.
        let sessions = try agents.map { try launch.session(for: $0) }
        if useSystemd {
            return try await upThroughSystemd(agents, progress: progress)
        }
        try await ensureServer()
        let panes = try await tmux.listPanes() ?? []
        let byName = Dictionary(panes.map { ($0.sessionName, $0) }, uniquingKeysWith: { a, _ in a })
        var outcomes: [String: AgentOutcome] = [:]
        var toCreate: [NewSession] = []
        var deadToKill: [String] = []
        for session in sessions {
            if let pane = byName[session.name] {
                if !pane.dead {
                    outcomes[session.name] = outcome(session.name, .alreadyRunning, "pane \(pane.paneId) pid \(pane.pid.map(String.init) ?? "?")")
                    continue
                }
                deadToKill.append(session.name)
            }
            toCreate.append(session)
        }
        if !deadToKill.isEmpty { try await tmux.killSessions(deadToKill) }
        let chunks = Tmux.chunk(toCreate.flatMap(\.commands), limit: Tmux.batchByteLimit)
        var created = 0
        progress(Progress(done: 0, total: toCreate.count, phase: "starting"))
        for chunk in chunks {
            try await tmux.run(chunk)
            created += chunk.filter { $0 == "new-session" }.count
            progress(Progress(done: created, total: toCreate.count, phase: "starting"))
        }
        for session in toCreate {
            outcomes[session.name] = outcome(session.name, deadToKill.contains(session.name) ? .restarted : .started, nil)
        }
        return try await confirm(agents, outcomes)
    }

    func upThroughSystemd(_ agents: [AgentSpec], progress: @Sendable (Progress) -> Void) async throws -> [AgentOutcome] {
        let systemctl = context.systemctl
        try await UnitInstaller(context: context, roster: roster).install()
        let units = Dictionary(try await systemctl.listUnits(["mosaic-*"]).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let panes = try await tmux.listPanes() ?? []
        let live = Set(panes.filter { !$0.dead }.map(\.sessionName))
        var outcomes: [String: AgentOutcome] = [:]
        var toStart: [String] = [], toRestart: [String] = []
        for agent in agents {
            let unit = FleetFiles.agentUnit(agent.name)
            let active = units[unit]?.isActive ?? false
            if active && live.contains(agent.name) {
                outcomes[agent.name] = outcome(agent.name, .alreadyRunning, nil)
            } else if active {
                toRestart.append(unit)
            } else {
                toStart.append(unit)
            }
        }
        let failed = (toStart + toRestart).filter { units[$0]?.active == "failed" }
        if !failed.isEmpty { try await systemctl.resetFailed(failed) }
        let pending = toStart + toRestart
        if pending.isEmpty { return try await confirm(agents, outcomes) }
        if !toStart.isEmpty { try await systemctl.start([FleetFiles.holderUnit] + toStart, wait: false) }
        if !toRestart.isEmpty { try await systemctl.run(["restart", "--no-block"] + toRestart) }

        // Watch the jobs finish with one list-units call per tick.
        let deadline = DispatchTime.now().uptimeNanoseconds + 120_000_000_000
        var finished: [String: UnitState] = [:]
        progress(Progress(done: 0, total: pending.count, phase: "starting"))
        while finished.count < pending.count && DispatchTime.now().uptimeNanoseconds < deadline {
            try await Task.sleep(for: .milliseconds(100))
            let now = Dictionary(try await systemctl.listUnits(["mosaic-*"]).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for unit in pending where finished[unit] == nil {
                if let state = now[unit], state.active == "active" || state.active == "failed" { finished[unit] = state }
            }
            progress(Progress(done: finished.count, total: pending.count, phase: "starting"))
        }
        for agent in agents where outcomes[agent.name] == nil {
            let unit = FleetFiles.agentUnit(agent.name)
            switch finished[unit]?.active {
            case "active"?: outcomes[agent.name] = outcome(agent.name, toRestart.contains(unit) ? .restarted : .started, nil)
            case "failed"?: outcomes[agent.name] = outcome(agent.name, .failed, "unit failed; see `journalctl --user -u \(unit)`")
            default: outcomes[agent.name] = outcome(agent.name, .failed, "unit did not become active within 120 s")
            }
        }
        return try await confirm(agents, outcomes)
    }

    /// Checks once that each started pane is still alive; a runtime that exited at once is
    /// reported with its exit status and last output, not just "dead".
    func confirm(_ agents: [AgentSpec], _ outcomes: [String: AgentOutcome]) async throws -> [AgentOutcome] {
        var result = outcomes
        let started = agents.filter { [.started, .restarted].contains(outcomes[$0.name]?.action) }
        if !started.isEmpty {
            try await Task.sleep(for: .milliseconds(150))
            let panes = Dictionary((try await tmux.listPanes() ?? []).map { ($0.sessionName, $0) }, uniquingKeysWith: { a, _ in a })
            for agent in started {
                guard let pane = panes[agent.name] else {
                    result[agent.name] = outcome(agent.name, .failed, "session vanished right after start")
                    continue
                }
                if pane.dead {
                    let screen = (try? await tmux.capturePane(pane.paneId, history: 50)) ?? ""
                    let last = screen.split(separator: "\n").suffix(5).joined(separator: " | ")
                    result[agent.name] = outcome(agent.name, .failed,
                        "runtime exited at once with status \(pane.deadStatus.map(String.init) ?? "?")" + (last.isEmpty ? "" : "; last output: \(last)"))
                }
            }
        }
        return agents.compactMap { result[$0.name] }
    }

    // MARK: down

    /// Stops agents and removes their heartbeat files; with `all`, also the holder and server
    /// when nothing unmanaged still runs there.
    public func down(_ agents: [AgentSpec], all: Bool) async throws -> (outcomes: [AgentOutcome], serverStopped: Bool, strays: [String]) {
        var outcomes: [AgentOutcome] = []
        let panes = try await tmux.listPanes()
        let present = Set((panes ?? []).map(\.sessionName))
        var activeUnits: Set<String> = []
        if useSystemd {
            activeUnits = Set(try await context.systemctl.listUnits(["mosaic-*"]).filter(\.isActive).map(\.name))
            let toStop = agents.map { FleetFiles.agentUnit($0.name) }.filter(activeUnits.contains)
            if !toStop.isEmpty { try await context.systemctl.stop(toStop) }
        }
        // Sessions started without systemd (or left by a failed stop) go directly.
        let leftover = try await tmux.listPanes().map { Set($0.map(\.sessionName)) } ?? []
        let toKill = agents.map(\.name).filter(leftover.contains)
        if !toKill.isEmpty { try await tmux.killSessions(toKill) }
        for agent in agents {
            context.heartbeats.remove(agent.name)
            let wasRunning = present.contains(agent.name) || activeUnits.contains(FleetFiles.agentUnit(agent.name))
            outcomes.append(outcome(agent.name, wasRunning ? .stopped : .notRunning, nil))
        }
        guard all else { return (outcomes, false, []) }
        let named = Set(roster.agents.map(\.name)).union([roster.holderSession])
        let remaining = try await tmux.listPanes().map { Set($0.map(\.sessionName)) } ?? []
        let strays = remaining.subtracting(named).sorted()
        guard strays.isEmpty else { return (outcomes, false, strays) }
        if useSystemd, activeUnits.contains(FleetFiles.holderUnit) {
            try await context.systemctl.stop([FleetFiles.holderUnit])
        }
        try await tmux.killServer()
        return (outcomes, panes != nil, [])
    }

    func outcome(_ name: String, _ action: AgentOutcome.Action, _ detail: String?) -> AgentOutcome {
        AgentOutcome(name: name, tenant_id: roster.tenant, host: roster.host, action: action, via: via, detail: detail)
    }
}

// MARK: unit entry points
extension Launcher {
    /// For the holder unit: its tmux server starts in the foreground (-D); once it answers,
    /// create the holder session.
    public func createHolderWhenServerAnswers(timeout: Duration) async throws {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout.nanoseconds)
        while try await tmux.listPanes() == nil {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { throw LaunchError.serverNotRunning(socket: roster.socketName) }
            try await Task.sleep(for: .milliseconds(50))
        }
        if try await !tmux.hasSession(roster.holderSession) { try await createHolder() }
    }

    /// For an agent unit: create the agent's session in the server the holder runs. Never starts
    /// a server itself: one forked here would live in this unit's cgroup and die with it.
    public func launchInRunningServer(_ agent: AgentSpec) async throws {
        let session = try RuntimeLaunch(context: context, roster: roster).session(for: agent)
        guard let panes = try await tmux.listPanes() else { throw LaunchError.serverNotRunning(socket: roster.socketName) }
        if let pane = panes.first(where: { $0.sessionName == agent.name }) {
            if !pane.dead { return }
            try await tmux.killSessions([agent.name])
        }
        try await tmux.newSessions([session])
    }

    /// For an agent unit's stop: kill the session if it exists and remove the heartbeat.
    public func stopSession(_ name: String) async throws {
        if try await tmux.hasSession(name) {
            do { try await tmux.killSessions([name]) } catch TmuxError.noSuchSession {}
        }
        context.heartbeats.remove(name)
    }
}
