import FleetCore
import Foundation
import Logging

/// The roster's restart policies, run by the daemon: FleetCore's pure `Supervisor` fed one
/// batched snapshot per step, its starts executed through the Launcher (the same reconcile and
/// batched tmux/systemd calls as `fleet up`), its events journaled. Operator verbs reach it
/// through the journal (`stopped-by-user`, `started-by-user`, `restarted-by-user`), read back
/// before every step and again before any start, so an explicit stop is never undone.
public actor PolicySupervisor: SupervisionStep {
    let context: FleetContext
    let journal: DaemonJournal
    let logger: Logger
    private var core: FleetCore.Supervisor?
    private var intentsSeen: Int64 = 0

    public init(context: FleetContext, journal: DaemonJournal, logger: Logger) {
        self.context = context
        self.journal = journal
        self.logger = logger
    }

    static let intentKinds: Set<EventKind> = [.stoppedByUser, .startedByUser, .restartedByUser]

    /// When the supervisor wants to look again (a backoff ends), if sooner than the next tick.
    /// While starts are in flight (a recovery, paced), look again every half second: a slot freed by
    /// an agent turning healthy is handed on at once, not at the next tick.
    public func nextDeadline() -> Date? {
        guard let core else { return nil }
        let soon = core.startsInFlight > 0 || core.recoveryProgress != nil ? Date().addingTimeInterval(0.5) : nil
        return [core.nextDeadline(), soon].compactMap { $0 }.min()
    }

    public func lifecycle(roster: Roster, now: Date) -> (agents: [String: AgentLifecycle], recovery: LifecycleReport.Recovery?)? {
        guard let core else { return nil }
        var agents: [String: AgentLifecycle] = [:]
        for spec in roster.agents {
            guard let state = core.state(of: spec.name) else { continue }
            agents[spec.name] = AgentLifecycle(state, restarts: core.restarts(of: spec.name, now: now), lastExit: core.lastExit(of: spec.name))
        }
        return (agents, core.recoveryProgress.map { LifecycleReport.Recovery(done: $0.done, total: $0.total) })
    }

    public func step(previous: FleetSnapshot?, current: FleetSnapshot, roster: Roster, now: Date) async -> [JournalEvent] {
        let policy = SupervisorPolicy(roster: roster)
        if core == nil {
            core = FleetCore.Supervisor(policy: policy, stopped: await stoppedAtStart())
            intentsSeen = await journal.lastId()
        } else {
            core?.reconfigure(policy)
        }
        await applyIntents(now: now)
        if !current.tmuxServerRunning, current.agents.contains(where: { core?.state(of: $0.name).map(Self.isStoppedByUser) != true }) {
            // The server is gone (killed, or never started): bring it back, holder first; the agents
            // follow, paced, once the next snapshot sees it (under systemd through the holder unit).
            do { _ = try await Launcher(context: context, roster: roster).up([]) } catch {
                logger.error("could not start the tmux server again: \(error)")
            }
        }
        let decisions = core?.observe(FleetObservation(snapshot: current), now: now) ?? []
        var events = decisions.compactMap { decision -> JournalEvent? in
            guard case .event(let event) = decision else { return nil }
            return journalEvent(event, snapshot: current, now: now)
        }
        // Heartbeat state changes are the snapshot's own news; lifecycle news is the supervisor's.
        if let previous {
            events += SnapshotChanges.events(from: previous, to: current, now: now).filter { $0.kind == .stateChanged }
        }
        let wanted = decisions.compactMap { decision -> (name: String, replace: Bool)? in
            switch decision {
            case .start(let name): return (name, false)
            case .restart(let name): return (name, current.agents.first { $0.name == name }?.session == .running)
            default: return nil
            }
        }
        if !wanted.isEmpty {
            // A stop typed while this step ran wins over a start it decided.
            await applyIntents(now: Date())
            let stopped = Set(wanted.map(\.name).filter { core?.state(of: $0).map(Self.isStoppedByUser) ?? false })
            let go = wanted.filter { !stopped.contains($0.name) }
            await execute(go, roster: roster)
        }
        return events
    }

    static func isStoppedByUser(_ state: AgentLifecycleState) -> Bool {
        if case .stoppedByUser = state { return true }
        return false
    }

    /// Starts (or, for a hung agent that still runs, replaces) agents: one batched `up` for
    /// the dead and missing, one `restart` for the hung.
    func execute(_ agents: [(name: String, replace: Bool)], roster: Roster) async {
        let specs = Dictionary(roster.agents.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let start = agents.filter { !$0.replace }.compactMap { specs[$0.name] }
        let replace = agents.filter(\.replace).compactMap { specs[$0.name] }
        do {
            let launcher = try Launcher(context: context, roster: roster)
            if !start.isEmpty { _ = try await launcher.up(start) }
            if !replace.isEmpty { _ = try await launcher.restart(replace) }
        } catch {
            logger.error("could not start \((start + replace).map(\.name).joined(separator: ", ")): \(error)")
        }
    }

    /// Operator verbs journaled since the last look.
    func applyIntents(now: Date) async {
        var filter = EventFilter()
        filter.afterId = intentsSeen
        guard let rows = try? await journal.events(filter) else { return }
        for row in rows {
            if let id = row.id { intentsSeen = max(intentsSeen, id) }
            guard let agent = row.agent, Self.intentKinds.contains(row.kind) else { continue }
            if row.kind == .stoppedByUser {
                _ = core?.stoppedByUser(agent, actor: row.actor ?? "unknown", now: row.ts)
            } else {
                _ = core?.cleared(agent, now: now)
            }
        }
    }

    /// The explicit stops a restarted daemon must keep: each agent's latest operator verb, if a stop.
    func stoppedAtStart() async -> [String: (actor: String, at: Date)] {
        var latest: [String: JournalEvent] = [:]
        for kind in Self.intentKinds {
            var filter = EventFilter()
            filter.kind = kind
            for row in (try? await journal.events(filter)) ?? [] {
                guard let agent = row.agent else { continue }
                if (latest[agent]?.id ?? -1) < (row.id ?? 0) { latest[agent] = row }
            }
        }
        var stopped: [String: (actor: String, at: Date)] = [:]
        for (agent, row) in latest where row.kind == .stoppedByUser { stopped[agent] = (row.actor ?? "unknown", row.ts) }
        return stopped
    }

    func journalEvent(_ event: SupervisorEvent, snapshot: FleetSnapshot, now: Date) -> JournalEvent? {
        func make(_ kind: EventKind, _ agent: String?, _ detail: EventDetail = EventDetail()) -> JournalEvent {
            JournalEvent(ts: now, tenant_id: snapshot.tenant, host: snapshot.host, agent: agent, kind: kind, detail: detail, actor: "daemon")
        }
        func exitDetail(_ exit: AgentExit?) -> EventDetail {
            EventDetail(status: exit?.status, signal: exit?.signal.map(PaneFormat.signalName), lastOutput: exit?.lastOutputLine)
        }
        switch event {
        case .adopted(let name): return make(.agentAdopted, name)
        case .started(let name): return make(.agentStarted, name)
        case .exited(let name, let exit):
            return make(.agentExited, name, exit == nil ? EventDetail(message: "the session vanished") : exitDetail(exit))
        case .restarted(let name, let attempt): return make(.agentRestarted, name, EventDetail(count: attempt))
        case .backoff(let name, let delay, let until):
            return make(.agentBackoff, name, EventDetail(message: "next start in \(delay) (at \(Timestamp.format(until)))"))
        case .failed(let name, let reason, let last):
            var detail = exitDetail(last)
            if case .crashLoop(let restarts, let window) = reason {
                detail.message = "crash loop: more than \(restarts) restarts within \(window); `mosaic fleet up \(name)` clears it"
            }
            return make(.agentFailed, name, detail)
        // The CLI journaled the stop itself, with its actor.
        case .stopped: return nil
        case .hung(let name, let reason): return make(.agentHung, name, EventDetail(message: reason.rawValue))
        case .recovered(let name): return make(.agentRecovered, name)
        case .recoveryComplete(let total): return make(.recoveryComplete, nil, EventDetail(count: total))
        case .massDeath(let cause, let dead, let fleet):
            let why: String
            switch cause {
            case .serverGone: why = "the tmux server went away"
            case .sameSignal(let signal): why = "every agent was killed by \(PaneFormat.signalName(signal))"
            case .daemonRestart: why = "they died while the daemon was down"
            case .unknown: why = "cause unknown"
            }
            return make(.massDeath, nil, EventDetail(count: dead, message: "\(dead) of \(fleet) agents died: \(why)"))
        }
    }
}
