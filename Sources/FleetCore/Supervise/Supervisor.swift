import Foundation

/// The pure supervisor: a value that turns what the planes show (and what operators ask) into
/// decisions. It never touches the world and never reads a clock; the daemon feeds it batched
/// snapshots, pane-death pushes and intents, and carries out what it returns.
///
/// Driving it: `observe` a `FleetObservation(snapshot:)` at start (adoption), after every
/// `PaneEvent` from `PaneDeathWatcher`, at `nextDeadline()` and on the periodic backstop; call
/// `stoppedByUser` / `cleared` when the CLI stops or starts an agent. `start`/`restart` mean "make
/// it run" (idempotent, like `fleet up`); a restart of a live pane (a hung agent) replaces it.
/// Journal every `.event`; `state(of:)`, `restarts(of:now:)`, `lastExit(of:)` and
/// `recoveryProgress` are what `ps` shows.
public struct Supervisor: Sendable {
    /// What the supervisor remembers of one agent.
    struct Record: Sendable {
        var state: AgentLifecycleState?
        /// Restarts counted toward the crash loop (those the tmux server's death caused are not).
        var restartTimes: [Date] = []
        /// Restarts since the agent was last healthy for `resetAfter`: the backoff exponent.
        var backoffLevel = 0
        var healthySince: Date?
        var lastExit: AgentExit?
        /// The hang already reported (one event per episode).
        var hung: HangReason?
        /// The next start replaces a live, hung pane.
        var hungRestart = false
        /// The next start is a restart (the agent ran under this supervisor or was found dead).
        var hasRun = false
        /// The death that made the next start due was the server's, not the agent's.
        var serverCaused = false
    }

    struct Death: Sendable {
        var name: String
        var at: Date
        var signal: Int32?
        var serverGone: Bool
        var atAdoption: Bool
    }

    public private(set) var policy: SupervisorPolicy
    var records: [String: Record] = [:]
    var adopted = false
    var recentDeaths: [Death] = []
    /// The agents of the mass death being recovered from, and how many there were.
    var recovery: Set<String>?
    var recoveryTotal = 0

    /// `stopped`: explicit stops known from before (the journal), kept across daemon restarts.
    public init(policy: SupervisorPolicy, stopped: [String: (actor: String, at: Date)] = [:]) {
        self.policy = policy
        for (name, stop) in stopped { records[name] = Record(state: .stoppedByUser(actor: stop.actor, at: stop.at)) }
    }

    // MARK: - What the daemon and `ps` read

    public func state(of name: String) -> AgentLifecycleState? { records[name]?.state }

    public func lastExit(of name: String) -> AgentExit? { records[name]?.lastExit }

    /// Restarts within the crash-loop window ending `now`.
    public func restarts(of name: String, now: Date) -> Int {
        records[name].map { countRestarts($0, now: now) } ?? 0
    }

    /// `recovering k/N` after a mass death; nil when none is being recovered from.
    public var recoveryProgress: (done: Int, total: Int)? {
        guard let recovery else { return nil }
        return (recoveryTotal - recovery.filter { !settled($0) }.count, recoveryTotal)
    }

    /// Starts in flight now.
    public var startsInFlight: Int {
        records.values.filter { if case .starting = $0.state { true } else { false } }.count
    }

    /// The earliest time something changes without a new observation (a backoff ends, a start
    /// times out, a healthy agent's backoff resets): when the daemon should look again.
    public func nextDeadline() -> Date? {
        var times: [Date] = []
        for record in records.values {
            switch record.state {
            case .backoff(let until): times.append(until)
            case .starting(let since): times.append(since.addingTimeInterval(policy.startTimeout.timeInterval))
            case .running where record.backoffLevel > 0:
                if let since = record.healthySince { times.append(since.addingTimeInterval(policy.lifecycle.resetAfter.timeInterval)) }
            default: break
            }
        }
        return times.min()
    }

    // MARK: - Intents

    /// An operator stopped the agent (`fleet down NAME`): it stays down until cleared.
    public mutating func stoppedByUser(_ name: String, actor: String, now: Date) -> [SupervisorDecision] {
        var record = records[name] ?? Record()
        record.state = .stoppedByUser(actor: actor, at: now)
        record.hungRestart = false
        record.hung = nil
        records[name] = record
        return [.event(.stopped(name, actor: actor))]
    }

    /// An operator starts the agent (`fleet up NAME`, `fleet restart NAME`): a stop, a failure and
    /// the backoff are forgotten, and the operator's start is in flight.
    public mutating func cleared(_ name: String, now: Date) -> [SupervisorDecision] {
        var record = records[name] ?? Record()
        record = Record(state: .starting(since: now), lastExit: record.lastExit, hasRun: true)
        records[name] = record
        return []
    }

    /// The roster changed: new policies apply from now on; removed agents are forgotten.
    public mutating func reconfigure(_ policy: SupervisorPolicy) {
        self.policy = policy
        let names = Set(policy.agents.map(\.name))
        records = records.filter { names.contains($0.key) }
        recovery = recovery?.intersection(names)
    }

    // MARK: - Observation

    /// Applies one batched snapshot taken at `now`.
    public mutating func observe(_ observation: FleetObservation, now: Date) -> [SupervisorDecision] {
        var out: [SupervisorDecision] = []
        let seen = Dictionary(observation.agents.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let first = !adopted
        var deaths: [Death] = []
        for agent in policy.agents {
            let seen = seen[agent.name] ?? AgentObservation(name: agent.name, pane: .absent)
            step(agent, seen, now: now, first: first, serverRunning: observation.serverRunning, out: &out, deaths: &deaths)
        }
        adopted = true
        noteDeaths(deaths, now: now, out: &out)
        schedule(now: now, serverRunning: observation.serverRunning, out: &out)
        if let recovery, recovery.allSatisfy(settled) {
            out.append(.event(.recoveryComplete(total: recoveryTotal)))
            self.recovery = nil
        }
        return out
    }

    mutating func step(_ agent: SupervisorPolicy.Agent, _ seen: AgentObservation, now: Date, first: Bool,
                       serverRunning: Bool, out: inout [SupervisorDecision], deaths: inout [Death]) {
        var r = records[agent.name] ?? Record()
        defer { records[agent.name] = r }
        let exit: AgentExit?
        switch seen.pane {
        case .running:
            exit = nil
        case .dead(let e):
            exit = e
        case .absent:
            exit = nil
        }
        let paneRunning = seen.pane == .running

        guard let state = r.state else {
            // First look: whatever runs is adopted as it is; nothing that runs is started again.
            if paneRunning {
                r.state = .running(since: now)
                r.hasRun = true
                if seen.health == .healthy { r.healthySince = now }
                out.append(.event(.adopted(agent.name)))
            } else if case .dead = seen.pane {
                r.hasRun = true
                die(agent, &r, exit: exit, now: now, serverRunning: serverRunning, out: &out)
                deaths.append(Death(name: agent.name, at: now, signal: exit?.signal, serverGone: !serverRunning, atAdoption: true))
            } else {
                r.state = agent.restart == .never ? .exited(nil) : .recovering
            }
            return
        }

        switch state {
        case .stoppedByUser, .failed, .exited:
            // Down on purpose; a pane someone started by hand is what runs now.
            if paneRunning { r.state = .running(since: now); r.hung = nil }
        case .backoff(let until):
            if paneRunning { r.state = .running(since: now) } else if now >= until { r.state = .recovering }
        case .recovering:
            if paneRunning && !r.hungRestart {
                r.state = .running(since: now)
            } else if paneRunning && seen.health == .healthy {
                // Healthy again before a slot came free: the restart is no longer wanted.
                r.hungRestart = false
                r.hung = nil
                r.state = .running(since: now)
                r.healthySince = now
                out.append(.event(.recovered(agent.name)))
            } else if !paneRunning && r.hungRestart {
                r.hungRestart = false
                out.append(.event(.exited(agent.name, exit)))
            }
        case .starting(let since):
            if !paneRunning {
                dieAndNote(agent, &r, seen: seen, exit: exit, now: now, serverRunning: serverRunning, out: &out, deaths: &deaths)
            } else if seen.health == .healthy {
                r.state = .running(since: now)
                r.healthySince = now
            } else if now.timeIntervalSince(since) >= policy.startTimeout.timeInterval {
                r.state = .running(since: now)
                hang(agent, &r, .neverHealthy, now: now, out: &out)
            }
        case .running:
            if !paneRunning {
                dieAndNote(agent, &r, seen: seen, exit: exit, now: now, serverRunning: serverRunning, out: &out, deaths: &deaths)
                return
            }
            switch seen.health {
            case .healthy:
                let since = r.healthySince ?? now
                r.healthySince = since
                if r.hung != nil {
                    r.hung = nil
                    out.append(.event(.recovered(agent.name)))
                }
                if now.timeIntervalSince(since) >= policy.lifecycle.resetAfter.timeInterval { r.backoffLevel = 0 }
            case .unknown:
                r.healthySince = nil
            case .hung(let reason):
                r.healthySince = nil
                hang(agent, &r, reason, now: now, out: &out)
            }
        }
    }

    mutating func dieAndNote(_ agent: SupervisorPolicy.Agent, _ r: inout Record, seen: AgentObservation, exit: AgentExit?,
                             now: Date, serverRunning: Bool, out: inout [SupervisorDecision], deaths: inout [Death]) {
        die(agent, &r, exit: exit, now: now, serverRunning: serverRunning, out: &out)
        deaths.append(Death(name: agent.name, at: now, signal: exit?.signal, serverGone: !serverRunning, atAdoption: false))
    }

    /// The agent's pane ended: the journal hears how, and its restart policy decides what comes next.
    func die(_ agent: SupervisorPolicy.Agent, _ r: inout Record, exit: AgentExit?, now: Date, serverRunning: Bool,
             out: inout [SupervisorDecision]) {
        r.lastExit = exit ?? r.lastExit
        r.healthySince = nil
        r.hung = nil
        r.hungRestart = false
        out.append(.event(.exited(agent.name, exit)))
        switch agent.restart {
        case .never:
            r.state = .exited(exit)
            return
        case .onFailure where exit?.isClean == true:
            r.state = .exited(exit)
            return
        case .always, .onFailure:
            break
        }
        if !serverRunning {
            // Not the agent's fault: no backoff, no step toward a crash loop; paced once the server is back.
            r.serverCaused = true
            r.state = .recovering
            return
        }
        r.serverCaused = false
        if countRestarts(r, now: now) >= policy.lifecycle.crashLoop.restarts {
            fail(agent.name, &r, now: now, out: &out)
            return
        }
        let delay = backoffDelay(level: r.backoffLevel)
        r.backoffLevel += 1
        if delay == .zero {
            r.state = .recovering
        } else {
            let until = now.addingTimeInterval(delay.timeInterval)
            r.state = .backoff(until: until)
            out.append(.wait(agent.name, until: until))
            out.append(.event(.backoff(agent.name, delay: delay, until: until)))
        }
    }

    func fail(_ name: String, _ r: inout Record, now: Date, out: inout [SupervisorDecision]) {
        let reason = FailureReason.crashLoop(restarts: countRestarts(r, now: now), window: policy.lifecycle.crashLoop.window)
        r.state = .failed(reason, lastExit: r.lastExit)
        r.hungRestart = false
        out.append(.markFailed(name, reason))
        out.append(.event(.failed(name, reason, lastExit: r.lastExit)))
    }

    /// One `hung` event per episode; a restart too where the roster asks for it.
    func hang(_ agent: SupervisorPolicy.Agent, _ r: inout Record, _ reason: HangReason, now: Date, out: inout [SupervisorDecision]) {
        if r.hung == nil {
            r.hung = reason
            out.append(.event(.hung(agent.name, reason)))
        }
        guard agent.onHang == .restart, !r.hungRestart else { return }
        if countRestarts(r, now: now) >= policy.lifecycle.crashLoop.restarts {
            fail(agent.name, &r, now: now, out: &out)
            return
        }
        r.hungRestart = true
        r.serverCaused = false
        r.state = .recovering
    }

    /// No wait after a healthy run, then `initial`, doubling up to `max`.
    func backoffDelay(level: Int) -> Duration {
        guard level > 0 else { return .zero }
        let backoff = policy.lifecycle.backoff
        var delay = backoff.initial
        for _ in 1..<level {
            delay *= 2
            if delay >= backoff.max { return backoff.max }
        }
        return min(delay, backoff.max)
    }

    func countRestarts(_ r: Record, now: Date) -> Int {
        let start = now.addingTimeInterval(-policy.lifecycle.crashLoop.window.timeInterval)
        return r.restartTimes.filter { $0 > start }.count
    }

    /// Starts what is due, in roster order, while pacing slots are free and the server runs.
    mutating func schedule(now: Date, serverRunning: Bool, out: inout [SupervisorDecision]) {
        guard serverRunning else { return }
        var inFlight = startsInFlight
        for agent in policy.agents {
            guard inFlight < policy.lifecycle.maxConcurrentStarts else { return }
            guard var r = records[agent.name], r.state == .recovering else { continue }
            if r.hasRun {
                if !r.serverCaused { r.restartTimes.append(now) }
                out.append(.restart(agent.name))
                out.append(.event(.restarted(agent.name, attempt: countRestarts(r, now: now))))
            } else {
                out.append(.start(agent.name))
                out.append(.event(.started(agent.name)))
            }
            r.hasRun = true
            r.hungRestart = false
            r.serverCaused = false
            r.hung = nil
            r.state = .starting(since: now)
            records[agent.name] = r
            inFlight += 1
        }
    }

    /// Mass death: enough of the fleet dying within the window makes one event and a recovery.
    mutating func noteDeaths(_ deaths: [Death], now: Date, out: inout [SupervisorDecision]) {
        guard !deaths.isEmpty else { return }
        if recovery != nil {
            recovery?.formUnion(deaths.map(\.name))
            recoveryTotal = recovery?.count ?? 0
            return
        }
        let window = policy.lifecycle.massDeath.window.timeInterval
        recentDeaths = recentDeaths.filter { now.timeIntervalSince($0.at) <= window } + deaths
        let names = Set(recentDeaths.map(\.name))
        let fleet = policy.agents.count
        let threshold = max(policy.lifecycle.massDeath.minAgents,
                            Int((policy.lifecycle.massDeath.fraction * Double(fleet)).rounded(.up)))
        guard names.count >= threshold else { return }
        let cause: MassDeathCause
        let signals = Set(recentDeaths.map(\.signal))
        if recentDeaths.contains(where: \.serverGone) {
            cause = .serverGone
        } else if signals.count == 1, let signal = signals.first ?? nil {
            cause = .sameSignal(signal)
        } else if recentDeaths.allSatisfy(\.atAdoption) {
            cause = .daemonRestart
        } else {
            cause = .unknown
        }
        out.append(.event(.massDeath(cause: cause, dead: names.count, fleet: fleet)))
        recovery = names
        recoveryTotal = names.count
        recentDeaths = []
    }

    /// Back (running, no start in flight) or settled for good (failed, stopped, down by policy).
    func settled(_ name: String) -> Bool {
        switch records[name]?.state {
        case .starting, .backoff, .recovering, nil: false
        case .running, .exited, .failed, .stoppedByUser: true
        }
    }
}
