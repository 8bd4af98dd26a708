import Foundation

/// Agents through their units: one blocking `systemctl start` for every unit that must start
/// (systemd runs the jobs in parallel), while one `list-units` per tick reports progress.
extension Launcher {
    /// Bound on one blocking start, restart or stop of many units.
    static let systemdJobTimeout: Duration = .seconds(120)

    /// After the jobs: each started or restarted agent's outcome from its unit's state, read in
    /// one `list-units`. A unit that did not start says why (its holder, or systemd's stderr).
    func judgeUnitJobs(_ execution: Execution, _ agents: [AgentSpec], _ outcomes: inout [String: AgentOutcome],
                       progress: @Sendable (Progress) -> Void) async throws {
        let pending = execution.unitJobs
        let after = try await unitsByName(jobSystemctl)
        progress(Progress(done: pending.count, total: pending.count, phase: "starting"))
        let holder = after[FleetFiles.holderUnit]
        for agent in agents {
            let unit = FleetFiles.agentUnit(agent.name)
            guard pending.contains(unit) else { continue }
            switch after[unit]?.active {
            case "active"?:
                break
            case "failed"?:
                outcomes[agent.name] = outcome(agent.name, .failed, "\(unit) failed; see `systemctl --user status \(unit)`")
            default:
                var why = "\(unit) did not start"
                if holder?.isActive != true {
                    why += ": \(FleetFiles.holderUnit) is \(holder.map { "\($0.active)/\($0.sub)" } ?? "not loaded")"
                        + "; see `systemctl --user status \(FleetFiles.holderUnit)`"
                } else if let line = execution.jobErrors.first(where: { $0.contains(unit) }) ?? execution.jobErrors.first {
                    why += ": \(line)"
                }
                outcomes[agent.name] = outcome(agent.name, .failed, why)
            }
        }
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
