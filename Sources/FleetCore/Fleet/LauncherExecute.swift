import Foundation

/// What executing a plan needs besides the plan: the sessions prepared for the agents it may start.
struct Workload: Sendable {
    var launch: RuntimeLaunch
    var agents: [AgentSpec]
    var sessions: [NewSession]
}

/// What running a plan learned that the outcomes need.
struct Execution: Sendable {
    /// The agent units started or restarted by systemd jobs.
    var unitJobs: [String] = []
    /// The stderr lines of systemd jobs that failed (a failed job is data: the units' states tell which).
    var jobErrors: [String] = []
}

/// Steps of one kind that run as one call (or one chunked batch) when they stand together.
enum Batch: Equatable, Sendable {
    case holder, sessions, kill, files, server, resetFailed, startUnits, restartUnits, stopUnits
}

extension Action {
    /// The call this step joins; `nil` for a decision that needs no I/O.
    var batch: Batch? {
        switch self {
        case .createHolder: return .holder
        case .startAgent, .restartDeadPane: return .sessions
        case .killSession: return .kill
        case .removeHeartbeat: return .files
        case .killServer: return .server
        case .resetFailed: return .resetFailed
        case .startUnit: return .startUnits
        case .restartUnit: return .restartUnits
        case .stopUnit: return .stopUnits
        case .leaveRunning, .keepServer, .refuse: return nil
        }
    }

    var unit: String? {
        switch self {
        case .resetFailed(let unit), .startUnit(let unit), .restartUnit(let unit), .stopUnit(let unit): return unit
        default: return nil
        }
    }
}

/// The executor: runs a plan's steps in order, batched as tmux and systemd allow. It decides
/// nothing; what to do was decided by `Reconciler` from one observation.
extension Launcher {
    /// Consecutive steps of one kind, in plan order; decisions without I/O are skipped.
    static func batches(_ plan: [Action]) -> [(batch: Batch, steps: [Action])] {
        var runs: [(batch: Batch, steps: [Action])] = []
        for step in plan {
            guard let batch = step.batch else { continue }
            if runs.last?.batch == batch { runs[runs.count - 1].steps.append(step) } else { runs.append((batch, [step])) }
        }
        return runs
    }

    /// The systemctl client for jobs on many units at once.
    var jobSystemctl: Systemctl {
        var systemctl = context.systemctl
        systemctl.timeout = Self.systemdJobTimeout
        return systemctl
    }

    /// Executes a plan made elsewhere (the supervisor's): its steps in order, batched; the
    /// agents it starts are looked up in the roster. A refusal in the plan is thrown.
    public func execute(_ plan: [Action]) async throws {
        _ = try await execute(plan, Workload(launch: RuntimeLaunch(context: context, roster: roster), agents: [], sessions: []),
                              progress: { _ in })
    }

    func execute(_ plan: [Action], _ work: Workload, progress: @escaping @Sendable (Progress) -> Void) async throws -> Execution {
        if let refusal = plan.lazy.compactMap({ step -> Refusal? in if case .refuse(let r) = step { r } else { nil } }).first {
            throw refusal.error
        }
        // Read while the server still runs: stopping the holder unit ends it, and the server
        // leaves its socket file behind.
        let socketFile = plan.contains(.killServer) ? try await runningSocketPath() : nil
        let systemctl = jobSystemctl
        var execution = Execution()
        var watcher: Task<Void, Never>?
        do {
            for run in Self.batches(plan) {
                let agents = run.steps.compactMap(\.agent), units = run.steps.compactMap(\.unit)
                switch run.batch {
                case .holder: try await createHolder()
                case .sessions: try await createSessions(run.steps, work, progress: progress)
                case .kill: try await killSessions(agents)
                case .files: await removeFiles(agents)
                case .server: try await killServer(socketFile: socketFile)
                case .resetFailed: try await systemctl.resetFailed(units)
                case .startUnits, .restartUnits:
                    if watcher == nil {
                        let pending = Self.agentUnitJobs(plan)
                        execution.unitJobs = pending
                        progress(Progress(done: 0, total: pending.count, phase: "starting"))
                        watcher = Task { [systemctl] in await Self.reportProgress(pending, systemctl: systemctl, progress: progress) }
                    }
                    let batch = run.batch
                    execution.jobErrors += try await Self.job {
                        if batch == .startUnits { try await systemctl.start(units) } else { try await systemctl.restart(units) }
                    }
                case .stopUnits: try await systemctl.stop(units)
                }
            }
        } catch {
            watcher?.cancel()
            throw error
        }
        // Wait for the watcher to end so no stale count is printed after the final one.
        if let watcher {
            watcher.cancel()
            await watcher.value
        }
        return execution
    }

    /// The agent units a plan starts or restarts through systemd (the holder is not counted).
    static func agentUnitJobs(_ plan: [Action]) -> [String] {
        plan.compactMap { step -> String? in
            switch step {
            case .startUnit(let unit), .restartUnit(let unit): return step.agent == nil ? nil : unit
            default: return nil
            }
        }
    }

    /// Kills the dead sessions among the steps, then creates every step's session in chunked
    /// calls under tmux's message limit, reporting progress per call.
    func createSessions(_ steps: [Action], _ work: Workload, progress: @Sendable (Progress) -> Void) async throws {
        let dead = steps.compactMap { step -> String? in if case .restartDeadPane(let agent) = step { agent } else { nil } }
        let names = steps.compactMap(\.agent)
        let prepared = Dictionary(work.sessions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let specs = try names.map { name in
            guard let spec = work.agents.first(where: { $0.name == name }) ?? roster.agent(named: name) else {
                throw RosterError.unknownAgents([name], known: roster.agents.map(\.name))
            }
            return spec
        }
        let sessions = try specs.map { try prepared[$0.name] ?? work.launch.session(for: $0) }
        if !dead.isEmpty { try await tmux.killSessions(dead) }
        // Also after a restart removed them with the agent's other files.
        try writeRuntimeFiles(specs, work.launch)
        var created = 0
        progress(Progress(done: 0, total: sessions.count, phase: "starting"))
        for chunk in Tmux.chunk(sessions.flatMap(\.commands), limit: Tmux.batchByteLimit) {
            try await tmux.run(chunk)
            created += chunk.filter { $0 == "new-session" }.count
            progress(Progress(done: created, total: sessions.count, phase: "starting"))
        }
    }

    /// Kills sessions in batched calls. A session that ended between the observation and the
    /// kill (its pane's process, a unit's stop) stops a tmux batch at that command: then the
    /// sessions still there are killed, so the step means "gone" whatever happened meanwhile.
    func killSessions(_ names: [String]) async throws {
        do {
            try await tmux.killSessions(names)
        } catch TmuxError.noSuchSession {
            let left = Set((try await tmux.listPanes() ?? []).map(\.sessionName))
            let rest = names.filter(left.contains)
            if !rest.isEmpty { try await tmux.killSessions(rest) }
        } catch TmuxError.noServer {}
    }

    /// Removes the agents' runtime files and heartbeats. A runtime that writes its own heartbeat
    /// (the stub) may be mid-write as its session goes: the writers get to exit first (bounded,
    /// all at once) so no heartbeat reappears after down.
    func removeFiles(_ names: [String]) async {
        await ProcessTable.waitForExit(names.compactMap { context.heartbeats.read($0)?.pid }, timeout: .seconds(1), host: context.host)
        for name in names {
            // The sidecar first: once it is stopped nothing writes the heartbeat again.
            runtimeFiles(name).removeAll(host: context.host)
            context.heartbeats.remove(name)
        }
    }

    func runningSocketPath() async throws -> String? {
        do { return try await tmux.socketPath() } catch TmuxError.noServer { return nil }
    }

    func killServer(socketFile: String?) async throws {
        try await tmux.killServer()
        // Nothing left behind: the server does not remove its socket file when it exits.
        if let socketFile, !socketFile.isEmpty, try await tmux.listPanes() == nil { context.host.removeFile(socketFile) }
    }
}
