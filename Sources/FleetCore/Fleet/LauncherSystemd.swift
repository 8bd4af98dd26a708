import Foundation

/// `fleet up` through the units: one blocking `systemctl start` for every unit that must start
/// (systemd runs the jobs in parallel), while one `list-units` per tick reports progress.
extension Launcher {
    /// Bound on one blocking start, restart or stop of many units.
    static let systemdJobTimeout: Duration = .seconds(120)

    func upThroughSystemd(_ agents: [AgentSpec], progress: @escaping @Sendable (Progress) -> Void) async throws -> [AgentOutcome] {
        var systemctl = context.systemctl
        systemctl.timeout = Self.systemdJobTimeout
        try await UnitInstaller(context: context, roster: roster).install()
        let units = try await unitsByName(systemctl)
        let panes = try await tmux.listPanes()
        let holderActive = units[FleetFiles.holderUnit]?.isActive ?? false
        // A server the holder unit does not run (left by MOSAIC_SYSTEMD=off) would make the
        // holder's `tmux -D` a mere client that fails: refuse with the fix instead.
        if panes != nil && !holderActive { throw LaunchError.unmanagedServer(socket: roster.socketName) }
        let live = Set((panes ?? []).filter { !$0.dead }.map(\.sessionName))
        if holderActive, panes != nil, !live.contains(roster.holderSession) { try await createHolder() }

        var outcomes: [String: AgentOutcome] = [:]
        var toStart: [String] = [], toRestart: [String] = []
        for agent in agents {
            let unit = FleetFiles.agentUnit(agent.name)
            let active = units[unit]?.isActive ?? false
            if active && live.contains(agent.name) {
                outcomes[agent.name] = outcome(agent.name, .alreadyRunning, nil)
            } else if active {
                // The unit believes the agent runs but its session is gone: restart runs
                // ExecStop then ExecStart, which recreates the session.
                toRestart.append(unit)
            } else {
                toStart.append(unit)
            }
        }
        let pending = toStart + toRestart
        if pending.isEmpty { return try await confirm(agents, outcomes) }
        let failed = ([FleetFiles.holderUnit] + pending).filter { units[$0]?.active == "failed" }
        if !failed.isEmpty { try await systemctl.resetFailed(failed) }

        progress(Progress(done: 0, total: pending.count, phase: "starting"))
        let watcher = Task { [systemctl] in await Self.reportProgress(pending, systemctl: systemctl, progress: progress) }
        var jobErrors: [String] = []
        do {
            jobErrors += try await Self.job { try await systemctl.start([FleetFiles.holderUnit] + toStart) }
            if !toRestart.isEmpty { jobErrors += try await Self.job { try await systemctl.restart(toRestart) } }
        } catch {
            watcher.cancel()
            throw error
        }
        // Wait for the watcher to end so no stale count is printed after the final one.
        watcher.cancel()
        await watcher.value
        let after = try await unitsByName(systemctl)
        progress(Progress(done: pending.count, total: pending.count, phase: "starting"))
        let holder = after[FleetFiles.holderUnit]
        for agent in agents where outcomes[agent.name] == nil {
            let unit = FleetFiles.agentUnit(agent.name)
            switch after[unit]?.active {
            case "active"?:
                outcomes[agent.name] = outcome(agent.name, toRestart.contains(unit) ? .restarted : .started, nil)
            case "failed"?:
                outcomes[agent.name] = outcome(agent.name, .failed, "\(unit) failed; see `systemctl --user status \(unit)`")
            default:
                var why = "\(unit) did not start"
                if holder?.isActive != true {
                    why += ": \(FleetFiles.holderUnit) is \(holder.map { "\($0.active)/\($0.sub)" } ?? "not loaded")"
                        + "; see `systemctl --user status \(FleetFiles.holderUnit)`"
                } else if let line = jobErrors.first(where: { $0.contains(unit) }) ?? jobErrors.first {
                    why += ": \(line)"
                }
                outcomes[agent.name] = outcome(agent.name, .failed, why)
            }
        }
        return try await confirm(agents, outcomes)
    }

    func unitsByName(_ systemctl: Systemctl) async throws -> [String: UnitState] {
        Dictionary(try await systemctl.listUnits(["mosaic-*"]).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Runs one blocking job call; a failed job is data (its stderr lines), the units' states
    /// tell which one failed. No manager, or no answer in time, still throws.
    static func job(_ call: () async throws -> Void) async throws -> [String] {
        do {
            try await call()
            return []
        } catch SystemdError.failed(_, _, let stderr) {
            return stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
    }

    /// Progress is cosmetic: it ends when cancelled or when a poll fails (the caller's own
    /// list-units call after the jobs reports a manager that stopped answering).
    static func reportProgress(_ pending: [String], systemctl: Systemctl, progress: @Sendable (Progress) -> Void) async {
        let wanted = Set(pending)
        while !Task.isCancelled {
            let states: [UnitState]
            do {
                try await Task.sleep(for: .milliseconds(200))
                states = try await systemctl.listUnits(["mosaic-agent@*"])
            } catch { return }
            let done = states.filter { wanted.contains($0.name) && ($0.active == "active" || $0.active == "failed") }.count
            // The caller reports completion once, after the jobs returned.
            if done < pending.count { progress(Progress(done: done, total: pending.count, phase: "starting")) }
        }
    }
}
