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

    public func up(_ agents: [AgentSpec], progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> [AgentOutcome] {
        try prepareHome()
        let launch = RuntimeLaunch(context: context, roster: roster)
        // Refuse before anything starts: a runtime that cannot be found is an error now, not a dead pane later.
        let sessions = try agents.map { try launch.session(for: $0) }
        try writeRuntimeFiles(agents, launch)
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
        var outcomes: [AgentOutcome] = []
        let panes = try await tmux.listPanes()
        let present = Set((panes ?? []).map(\.sessionName))
        var activeUnits: Set<String> = []
        var systemctl = context.systemctl
        systemctl.timeout = Self.systemdJobTimeout
        if useSystemd {
            activeUnits = Set(try await systemctl.listUnits(["mosaic-*"]).filter(\.isActive).map(\.name))
            let toStop = agents.map { FleetFiles.agentUnit($0.name) }.filter(activeUnits.contains)
            if !toStop.isEmpty { try await systemctl.stop(toStop) }
        }
        // Sessions started without systemd (or left by a failed stop) go directly.
        let leftover = try await tmux.listPanes().map { Set($0.map(\.sessionName)) } ?? []
        let toKill = agents.map(\.name).filter(leftover.contains)
        if !toKill.isEmpty { try await tmux.killSessions(toKill) }
        // A runtime that writes its own heartbeat (the stub) may be mid-write as its session
        // goes: let the writers exit (bounded, all at once) so no heartbeat reappears after down.
        await ProcessTable.waitForExit(agents.compactMap { context.heartbeats.read($0.name)?.pid }, timeout: .seconds(1), host: context.host)
        for agent in agents {
            // The sidecar first: once it is stopped nothing writes the heartbeat again.
            runtimeFiles(agent.name).removeAll(host: context.host)
            context.heartbeats.remove(agent.name)
            let wasRunning = present.contains(agent.name) || activeUnits.contains(FleetFiles.agentUnit(agent.name))
            outcomes.append(outcome(agent.name, wasRunning ? .stopped : .notRunning, nil))
        }
        guard all else { return (outcomes, false, []) }
        let named = Set(roster.agents.map(\.name)).union([roster.holderSession])
        let remaining = try await tmux.listPanes().map { Set($0.map(\.sessionName)) } ?? []
        let strays = remaining.subtracting(named).sorted()
        guard strays.isEmpty else { return (outcomes, false, strays) }
        let socketFile = panes != nil ? try await tmux.socketPath() : nil
        if useSystemd, activeUnits.contains(FleetFiles.holderUnit) {
            try await systemctl.stop([FleetFiles.holderUnit])
        }
        try await tmux.killServer()
        // Nothing left behind: the server does not remove its socket file when it exits.
        if let socketFile, !socketFile.isEmpty, try await tmux.listPanes() == nil { context.host.removeFile(socketFile) }
        return (outcomes, panes != nil, [])
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
        guard let panes = try await tmux.listPanes() else { throw LaunchError.serverNotRunning(socket: roster.socketName) }
        if let pane = panes.first(where: { $0.sessionName == agent.name }) {
            if !pane.dead { return }
            try await tmux.killSessions([agent.name])
        }
        try writeRuntimeFiles([agent], launch)
        try await tmux.newSessions([session])
    }

    /// For an agent unit's stop: kill the session if it exists and remove the heartbeat.
    public func stopSession(_ name: String) async throws {
        if try await tmux.hasSession(name) {
            do { try await tmux.killSessions([name]) } catch TmuxError.noSuchSession {}
        }
        // Also when the server died under us: its panes are exiting now (see `down`).
        await ProcessTable.waitForExit(context.heartbeats.read(name).map { [$0.pid] } ?? [], timeout: .seconds(1), host: context.host)
        runtimeFiles(name).removeAll(host: context.host)
        context.heartbeats.remove(name)
    }

    /// Writes what the agents' runtime integrations need (hook settings, extensions) before they start.
    func writeRuntimeFiles(_ agents: [AgentSpec], _ launch: RuntimeLaunch) throws {
        for agent in agents { try runtimeFiles(agent.name).write(launch.files(for: agent), host: context.host) }
    }

    func runtimeFiles(_ agent: String) -> AgentRuntimeFiles {
        AgentRuntimeFiles(runDirectory: context.paths.runDirectory, agent: agent)
    }
}
