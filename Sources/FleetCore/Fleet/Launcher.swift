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

    func createHolder() async throws {
        do {
            try await tmux.newSessions([NewSession(name: roster.holderSession, command: .argv(["sleep", "infinity"]),
                                                   workdir: "/", width: 80, height: 24)])
        } catch TmuxError.duplicateSession {}
    }

    /// The world as a decision needs it, read once: one `list-panes -a` and, through systemd,
    /// one `list-units`.
    public func observe() async throws -> Observation {
        let units = useSystemd ? try await jobSystemctl.listUnits(["mosaic-*"]) : nil
        return Observation(panes: try await tmux.listPanes(), units: units)
    }

    // MARK: up, restart

    public func up(_ agents: [AgentSpec], progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> [AgentOutcome] {
        let work = try await prepare(agents)
        // Running agents get their integration files refreshed too.
        try writeRuntimeFiles(agents, work.launch)
        let plan = Reconciler.reconcile(roster: roster, observation: try await observe(), intent: .up(agents.map(\.name)))
        return try await start(plan, agents, work, progress: progress)
    }

    /// Stops the agents, then starts them again; the tmux server keeps running. Nothing is
    /// stopped when an agent could not start again (its runtime is missing, the server is not
    /// the holder's).
    public func restart(_ agents: [AgentSpec], progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> [AgentOutcome] {
        let work = try await prepare(agents)
        let plan = Reconciler.reconcile(roster: roster, observation: try await observe(), intent: .restart(agents.map(\.name)))
        var outcomes = try await start(plan, agents, work, progress: progress)
        for i in outcomes.indices where outcomes[i].action == .started { outcomes[i].action = .restarted }
        return outcomes
    }

    /// What starting needs, made before anything changes: a runtime that cannot be found is an
    /// error now, not a dead pane later.
    func prepare(_ agents: [AgentSpec]) async throws -> Workload {
        try prepareHome()
        let launch = RuntimeLaunch(context: context, roster: roster)
        let sessions = try agents.map { try launch.session(for: $0) }
        if useSystemd { try await UnitInstaller(context: context, roster: roster).install() }
        return Workload(launch: launch, agents: agents, sessions: sessions)
    }

    /// Runs a plan that starts agents and reports each agent's outcome.
    func start(_ plan: [Action], _ agents: [AgentSpec], _ work: Workload,
               progress: @escaping @Sendable (Progress) -> Void) async throws -> [AgentOutcome] {
        let execution = try await execute(plan, work, progress: progress)
        var outcomes: [String: AgentOutcome] = [:]
        for (name, intended) in Self.intendedStarts(plan) {
            outcomes[name] = outcome(name, intended.action, intended.detail)
        }
        if !execution.unitJobs.isEmpty {
            try await judgeUnitJobs(execution, agents, &outcomes, progress: progress)
        }
        return try await confirm(agents, outcomes)
    }

    /// Each started or kept agent's outcome as the plan intends it, before anything ran.
    static func intendedStarts(_ plan: [Action]) -> [String: (action: AgentOutcome.Action, detail: String?)] {
        var intended: [String: (action: AgentOutcome.Action, detail: String?)] = [:]
        for step in plan {
            switch step {
            case .leaveRunning(let agent, let reason):
                intended[agent] = (.alreadyRunning, reason.outcomeDetail)
            case .startAgent(let agent): intended[agent] = (.started, nil)
            case .restartDeadPane(let agent): intended[agent] = (.restarted, nil)
            case .startUnit, .restartUnit:
                guard let agent = step.agent else { continue }
                if case .restartUnit = step { intended[agent] = (.restarted, nil) } else { intended[agent] = (.started, nil) }
            default: continue
            }
        }
        return intended
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
                    // The last output is a courtesy: if it cannot be read, say so instead of failing the report.
                    let last: String
                    do {
                        last = PaneFormat.lastOutput(try await tmux.capturePane(pane.paneId, history: 50), count: 5).joined(separator: " | ")
                    } catch {
                        last = "(unreadable: \(error))"
                    }
                    let how: String
                    if let signal = pane.deadSignal {
                        how = "was killed at once by \(PaneFormat.signalName(signal))"
                    } else {
                        how = "exited at once with status \(try await exitStatus(of: pane).map(String.init) ?? "?")"
                    }
                    result[agent.name] = outcome(agent.name, .failed, "runtime \(how)" + (last.isEmpty ? "" : "; last output: \(last)"))
                }
            }
        }
        return agents.compactMap { result[$0.name] }
    }

    /// A dead pane's exit status. tmux 3.3a marks a pane dead when its terminal closes and learns
    /// the status only when it reaps the process; until then the zombie in /proc holds it.
    func exitStatus(of pane: PaneInfo) async throws -> Int32? {
        if let status = pane.deadStatus { return status }
        for _ in 0..<20 {
            if let pid = pane.pid, let status = ProcessTable().sample(pid)?.exitStatus { return status }
            if let status = try await tmux.listPanes()?.first(where: { $0.paneId == pane.paneId })?.deadStatus { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    // MARK: down

    /// Stops agents and removes their heartbeat files; with `all`, also the holder and server
    /// when nothing unmanaged still runs there.
    public func down(_ agents: [AgentSpec], all: Bool) async throws -> (outcomes: [AgentOutcome], serverStopped: Bool, strays: [String]) {
        let names = agents.map(\.name)
        let plan = Reconciler.reconcile(roster: roster, observation: try await observe(), intent: all ? .downAll : .down(names))
        try await execute(plan)
        var stopped: Set<String> = []
        var strays: [String] = []
        for step in plan {
            switch step {
            case .killSession, .stopUnit: if let agent = step.agent { stopped.insert(agent) }
            case .keepServer(let names): strays = names
            default: continue
            }
        }
        let outcomes = names.map { outcome($0, stopped.contains($0) ? .stopped : .notRunning, nil) }
        return (outcomes, plan.contains(.killServer), strays)
    }

    func outcome(_ name: String, _ action: AgentOutcome.Action, _ detail: String?) -> AgentOutcome {
        AgentOutcome(name: name, tenant_id: roster.tenant, host: roster.host, action: action, via: via, detail: detail)
    }
}

// MARK: unit entry points
extension Launcher {
    /// For the holder unit: its tmux server starts in the foreground (-D); once it answers,
    /// create the holder session. `serverPid` (the unit's $MAINPID) must be the pid of the server
    /// that answers: when another server already owns the socket, `tmux -D` is only a client.
    public func createHolderWhenServerAnswers(timeout: Duration, serverPid: Int32?) async throws {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout.nanoseconds)
        while try await tmux.listPanes() == nil {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { throw LaunchError.serverNotRunning(socket: roster.socketName) }
            try await Task.sleep(for: .milliseconds(50))
        }
        if let serverPid {
            let answering = try await tmux.run(["display-message", "-p", "#{pid}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            guard answering == String(serverPid) else { throw LaunchError.unmanagedServer(socket: roster.socketName) }
        }
        if try await !tmux.hasSession(roster.holderSession) { try await createHolder() }
    }

    /// For an agent unit: create the agent's session in the server the holder runs. Never starts
    /// a server itself: one forked here would live in this unit's cgroup and die with it.
    public func launchInRunningServer(_ agent: AgentSpec) async throws {
        let launch = RuntimeLaunch(context: context, roster: roster)
        let session = try launch.session(for: agent)
        let seen = Observation(panes: try await tmux.listPanes(), units: nil)
        guard seen.serverRunning else { throw LaunchError.serverNotRunning(socket: roster.socketName) }
        // The holder session is the holder unit's own business.
        let plan = Reconciler.reconcile(roster: roster, observation: seen, intent: .up([agent.name])).filter { $0 != .createHolder }
        _ = try await execute(plan, Workload(launch: launch, agents: [agent], sessions: [session]), progress: { _ in })
    }

    /// For an agent unit's stop: kill the session if it exists and remove the heartbeat (also
    /// when the server died under us: its panes are exiting now).
    public func stopSession(_ name: String) async throws {
        let seen = Observation(panes: try await tmux.listPanes(), units: nil)
        try await execute(Reconciler.reconcile(roster: roster, observation: seen, intent: .down([name])))
    }

    /// Writes what the agents' runtime integrations need (hook settings, extensions) before they start.
    func writeRuntimeFiles(_ agents: [AgentSpec], _ launch: RuntimeLaunch) throws {
        for agent in agents { try runtimeFiles(agent.name).write(launch.files(for: agent), host: context.host) }
    }

    func runtimeFiles(_ agent: String) -> AgentRuntimeFiles {
        AgentRuntimeFiles(runDirectory: context.paths.runDirectory, agent: agent)
    }
}
