import FleetCore
import Foundation
import Logging
import ServiceLifecycle

/// One supervision step per snapshot: decide what to start, act, and say what happened for the
/// journal. `PolicySupervisor` runs the roster's restart policies; `ObservingSupervisor` only
/// reports changes (a daemon told to leave the fleet alone: `MOSAIC_SUPERVISE=off`).
public protocol SupervisionStep: Sendable {
    /// `previous` is nil for the first snapshot (adoption).
    func step(previous: FleetSnapshot?, current: FleetSnapshot, roster: Roster, now: Date) async -> [JournalEvent]
    /// When to look again if sooner than the next tick (a backoff that ends).
    func nextDeadline() async -> Date?
    /// What it makes of each roster agent, for `ps` (nil: it decides nothing, so it reports nothing).
    func lifecycle(roster: Roster, now: Date) async -> (agents: [String: AgentLifecycle], recovery: LifecycleReport.Recovery?)?
}

/// Reports what changed between snapshots; starts nothing.
public struct ObservingSupervisor: SupervisionStep {
    public init() {}
    public func step(previous: FleetSnapshot?, current: FleetSnapshot, roster: Roster, now: Date) async -> [JournalEvent] {
        guard let previous else { return [] }
        return SnapshotChanges.events(from: previous, to: current, now: now)
    }
    public func nextDeadline() async -> Date? { nil }
    public func lifecycle(roster: Roster, now: Date) async -> (agents: [String: AgentLifecycle], recovery: LifecycleReport.Recovery?)? { nil }
}

/// What the daemon knows of itself, for `/api/v1/status`.
public actor DaemonState {
    public let pid: Int32
    public let started: Date
    public private(set) var adopted: Int?
    public private(set) var ticks = 0
    public private(set) var latest: FleetSnapshot?

    public init(pid: Int32, started: Date) {
        self.pid = pid
        self.started = started
    }

    func record(_ snapshot: FleetSnapshot?, adopted: Int?) {
        ticks += 1
        if let snapshot { latest = snapshot }
        if let adopted, self.adopted == nil { self.adopted = adopted }
    }
}

/// The periodic reconcile: one batched snapshot per tick (PlaneReader + FleetSnapshot.join, a fixed
/// number of process calls whatever the fleet's size), handed to the `Supervisor`; its events go to
/// the journal. The first snapshot adopts the running agents and tells systemd READY=1.
public struct SupervisorService: Service {
    let context: FleetContext
    let journal: DaemonJournal
    let state: DaemonState
    let supervisor: any SupervisionStep
    let followDeaths: Bool
    let interval: Duration
    let notifier: SystemdNotifier
    let logger: Logger

    public init(context: FleetContext, journal: DaemonJournal, state: DaemonState, supervisor: any SupervisionStep = ObservingSupervisor(), followDeaths: Bool = false,
                interval: Duration, notifier: SystemdNotifier, logger: Logger) {
        self.context = context
        self.journal = journal
        self.state = state
        self.supervisor = supervisor
        self.followDeaths = followDeaths
        // The watchdog is fed once per tick: tick at least twice per watchdog period.
        self.interval = notifier.watchdogInterval.map { min(interval, $0 / 2) } ?? interval
        self.notifier = notifier
        self.logger = logger
    }

    public func run() async throws {
        // Every failure inside is caught and retried; cancellation ends the loop.
        await cancelWhenGracefulShutdown {
            var previous: FleetSnapshot?
            var lastProblem: String?
            let rosters = RosterCache()
            // Pane and server deaths pushed by tmux wake the loop at once; the tick is the backstop.
            let wake = FileWatch()
            var report = ReportFile(path: context.paths.lifecycleReport, host: context.host, interval: interval, logger: logger)
            defer { report.remove() }
            let pushes = Task { [followDeaths] in
                if followDeaths { await Self.forwardDeaths(context: context, to: wake, logger: logger) }
            }
            defer { pushes.cancel() }
            while !Task.isCancelled {
                let seen = wake.generation
                let now = Date()
                do {
                    // A CLI verb that is changing the fleet goes first; look again once it is done.
                    guard let operation = try FleetOperation.tryLock(context.paths) else {
                        report.refresh(now: Date())
                        notifier.notify("WATCHDOG=1")
                        _ = await wake.wait(after: seen, timeout: .milliseconds(200))
                        continue
                    }
                    defer { operation.release() }
                    let roster = try context.loadRoster(cache: rosters)
                    let readings = try await PlaneReader(context: context).read(roster: roster, lifecycle: false)
                    let snapshot = FleetSnapshot.join(roster: roster, readings: readings, now: now)
                    let events = await supervisor.step(previous: previous, current: snapshot, roster: roster, now: now)
                    if previous != nil {
                        await journal.record(events)
                        await state.record(snapshot, adopted: nil)
                    } else {
                        let running = snapshot.agents.filter { $0.session == .running }.count
                        await journal.record([JournalEvent(
                            ts: now, tenant_id: snapshot.tenant, host: snapshot.host, kind: .daemonAdopted,
                            detail: EventDetail(count: running, message: "\(running) of \(snapshot.agents.count) agents running"),
                            actor: "daemon")])
                        await journal.record(events)
                        await state.record(snapshot, adopted: running)
                        notifier.notify("READY=1\nSTATUS=adopted \(running) of \(snapshot.agents.count) agents")
                        logger.info("adopted \(running) of \(snapshot.agents.count) agents")
                    }
                    previous = snapshot
                    lastProblem = nil
                    if let (agents, recovery) = await supervisor.lifecycle(roster: roster, now: Date()) {
                        report.publish(LifecycleReport(daemonPid: getpid(), updated: Date(), interval: interval, recovery: recovery, agents: agents))
                    }
                } catch {
                    let problem = "\(error)"
                    if problem != lastProblem { logger.error("cannot read the fleet: \(problem); retrying every \(interval)") }
                    if previous == nil && lastProblem == nil {
                        // Ready all the same: a bad roster must not make systemd kill and restart the daemon.
                        await state.record(nil, adopted: nil)
                        notifier.notify("READY=1\nSTATUS=cannot read the fleet: \(problem)")
                    }
                    lastProblem = problem
                }
                notifier.notify("WATCHDOG=1")
                // Until the next tick, a backoff's end, or a death tmux pushed, whichever is first.
                var wait = interval
                if let deadline = await supervisor.nextDeadline() {
                    let left = Duration.milliseconds(Int64(max(0, deadline.timeIntervalSinceNow) * 1000))
                    wait = min(wait, max(.milliseconds(50), left))
                }
                _ = await wake.wait(after: seen, timeout: wait)
            }
        }
        notifier.notify("STOPPING=1")
    }
}

extension SupervisorService {
    /// Follows tmux's push of pane deaths (one control-mode client, see PaneDeathWatcher) and
    /// wakes the loop for each. While no server or holder session runs there is nothing to
    /// follow: it tries again each second until cancelled (the tick reconciles meanwhile).
    static func forwardDeaths(context: FleetContext, to wake: FileWatch, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let roster = try context.loadRoster()
                let watcher = PaneDeathWatcher(tmux: try context.tmux(for: roster), holderSession: roster.holderSession, host: context.host)
                for await event in try watcher.events() {
                    if case .watching = event { continue }
                    wake.changed()
                }
                wake.changed()
            } catch {
                logger.debug("pane deaths cannot be followed yet: \(error)")
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }
}

/// Reads the fleet afresh for `/api/v1/fleet`, exactly as `fleet ps --json` does.
public struct LiveFleetSource: FleetSource {
    let context: FleetContext
    public init(context: FleetContext) { self.context = context }
    public func snapshot() async throws -> FleetSnapshot {
        let roster = try context.loadRoster()
        let readings = try await PlaneReader(context: context).read(roster: roster)
        return FleetSnapshot.join(roster: roster, readings: readings, now: Date())
    }
}

/// `<run>/lifecycle.json` (see `LifecycleReport`): written when it changes, and otherwise re-dated
/// every `redate` (also while a CLI verb holds the fleet), so `ps` can tell a live daemon from a
/// dead one: it stops believing a report after max(3 intervals, 30 s), and `redate` is
/// max(interval, 15 s), always under half of that. Encoding 1000 agents' entries was an eighth of
/// a tick's cost when it was done every tick (measured). Removed when the supervisor stops.
/// A value owned by the supervisor loop.
struct ReportFile {
    let path: String
    let host: any FleetCore.Host
    let interval: Duration
    let logger: Logger
    private var last: LifecycleReport?
    private var written = Date.distantPast

    init(path: String, host: any FleetCore.Host, interval: Duration, logger: Logger) {
        self.path = path
        self.host = host
        self.interval = interval
        self.logger = logger
    }

    var redate: TimeInterval { max(interval.timeInterval, 15) }

    mutating func publish(_ report: LifecycleReport) {
        var compared = report
        compared.updated = last?.updated ?? ""
        let now = Date()
        // Unchanged and recent: nothing to write (an idle fleet costs one write per `redate`).
        if compared == last, now.timeIntervalSince(written) < redate { return }
        write(report, at: now)
    }

    mutating func refresh(now: Date) {
        guard var report = last, now.timeIntervalSince(written) >= redate else { return }
        report.updated = Timestamp.format(now)
        write(report, at: now)
    }

    private mutating func write(_ report: LifecycleReport, at now: Date) {
        do {
            try host.writeFile(try report.serialized(), to: path, mode: 0o600)
            last = report
            written = now
        } catch {
            logger.error("cannot write the lifecycle report \(path): \(error)")
        }
    }

    func remove() { host.removeFile(path) }
}
