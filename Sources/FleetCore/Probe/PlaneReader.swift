import Foundation

/// Reads every plane with a fixed number of process calls, whatever the fleet's size:
/// one `tmux list-panes -a`, one `systemctl list-units`, then files under /proc and the run directory.
public struct PlaneReader: Sendable {
    public let context: FleetContext

    public init(context: FleetContext) { self.context = context }

    /// `lifecycle: false` leaves the daemon's lifecycle report unread: the daemon itself has no use
    /// for its own report, and decoding it is a tenth of a tick's cost at 1000 agents (measured).
    public func read(roster: Roster, probeTimeout: Duration? = nil, clock: (@Sendable () -> Date)? = nil,
                     lifecycle: Bool = true) async throws -> PlaneReadings {
        let tmux = try context.tmux(for: roster)
        let systemctl = context.systemctl
        let store = context.heartbeats

        // A probe is asked before the planes are read so the agents answer while we read.
        var prober: Prober?
        if probeTimeout != nil {
            let asking = Prober(store: store, agents: roster.agents.map(\.name))
            try await asking.send(now: clock?() ?? context.host.now())
            prober = asking
        }

        async let panes = tmux.listPanes()
        async let units: Result<[UnitState], SystemdError>? = Self.readUnits(systemctl)

        // The file planes are read while tmux and systemd answer (measured: with 1000 agents the
        // heartbeat and /proc reads cost as much as the tmux call; in sequence they add up).
        // Each heartbeat is read once: now without a probe, after the answers with one.
        func readHeartbeats(answers: [String: Heartbeat]) -> [String: Heartbeat] {
            var beats: [String: Heartbeat] = [:]
            for agent in roster.agents {
                if let beat = answers[agent.name] ?? store.read(agent.name) { beats[agent.name] = beat }
            }
            return beats
        }
        var heartbeats = prober == nil ? readHeartbeats(answers: [:]) : [:]
        let enabledUnits = try systemctl.isReachable ? UnitInstaller.enabledUnits(in: context.unitDirectory, host: context.host) : nil

        let paneList = try await panes
        var processes: [Int32: ProcessSample] = [:]
        let table = context.processTable
        // A dead pane without a status: tmux has not reaped its process yet (measured with
        // aider), whose zombie still holds the exit status.
        for pane in paneList ?? [] where !pane.dead || pane.deadStatus == nil {
            if let pid = pane.pid, processes[pid] == nil, let sample = table.sample(pid) { processes[pid] = sample }
        }

        // A dead agent pane's last words (one capture per dead agent pane: none in a healthy fleet).
        var lastOutput: [String: [String]] = [:]
        let names = Set(roster.agents.map(\.name))
        for pane in paneList ?? [] where pane.dead && names.contains(pane.sessionName) && lastOutput[pane.sessionName] == nil {
            if let capture = try? await tmux.capturePane(pane.paneId, history: 50) {
                lastOutput[pane.sessionName] = PaneFormat.lastOutput(capture)
            }
        }

        var unitList: [UnitState]?, systemdError: String?
        switch await units {
        case .success(let list)?: unitList = list
        case .failure(let error)?: systemdError = error.description
        case nil: break
        }

        var probes: [String: ProbeOutcome]?
        if let prober, let probeTimeout {
            probes = await prober.collect(timeout: probeTimeout)
            heartbeats = readHeartbeats(answers: await prober.answers)
        }
        return PlaneReadings(
            panes: paneList, units: unitList,
            enabledUnits: unitList == nil ? nil : enabledUnits,
            linger: unitList == nil ? nil : context.lingerEnabled,
            processes: processes, heartbeats: heartbeats, lastOutput: lastOutput, probes: probes, systemdError: systemdError,
            lifecycle: lifecycle ? context.host.readFile(context.paths.lifecycleReport, limit: 1 << 22).flatMap(LifecycleReport.parse) : nil)
    }

    /// `nil` when no user manager is reachable; a failure when it is but would not answer.
    static func readUnits(_ systemctl: Systemctl) async -> Result<[UnitState], SystemdError>? {
        guard systemctl.isReachable else { return nil }
        do { return .success(try await systemctl.listUnits(["mosaic-*"])) } catch let error as SystemdError {
            return .failure(error)
        } catch { return .failure(.unavailable("\(error)")) }
    }
}

/// Asks every agent for a fresh heartbeat carrying a new nonce and waits, bounded, for the echoes.
public actor Prober {
    let store: HeartbeatStore
    let agents: [String]
    public private(set) var nonces: [String: String] = [:]
    public private(set) var answers: [String: Heartbeat] = [:]
    private var sentAt = ContinuousClock.now
    /// Wakes `collect` when a heartbeat file changes; nil if the run directory cannot be watched.
    private var watch: FileWatch?

    public init(store: HeartbeatStore, agents: [String]) {
        self.store = store
        self.agents = agents
    }

    public func send(now: Date) throws {
        // Watching starts before the first request, so no answer can slip in unseen.
        do {
            watch = try store.host.watch(directory: store.directory,
                                         names: Set(agents.map { (store.heartbeatPath($0) as NSString).lastPathComponent }))
        } catch {
            Log.core.notice("probe answers are polled: \(error)")
        }
        sentAt = ContinuousClock.now
        for agent in agents {
            let nonce = Self.newNonce()
            nonces[agent] = nonce
            try store.requestProbe(agent, nonce: nonce, now: now)
        }
    }

    /// Reads the heartbeat files each time one changes, until every agent echoed its nonce or
    /// the deadline passed. An answer that does not echo the nonce is not an answer. Probe
    /// requests are removed after.
    public func collect(timeout: Duration) async -> [String: ProbeOutcome] {
        var latency: [String: Int] = [:]
        let deadline = sentAt + timeout
        while true {
            let seen = watch?.generation ?? 0
            for agent in agents where latency[agent] == nil {
                if let beat = store.read(agent), beat.nonce == nonces[agent] {
                    answers[agent] = beat
                    latency[agent] = Int((ContinuousClock.now - sentAt).milliseconds)
                }
            }
            let now = ContinuousClock.now
            if latency.count == agents.count || now >= deadline { break }
            if let watch {
                _ = await watch.wait(after: seen, timeout: deadline - now)
            } else {
                // A directory that cannot be watched (inotify limits): look again shortly.
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        watch = nil
        for agent in agents { store.clearProbe(agent) }
        return Dictionary(uniqueKeysWithValues: agents.map { agent in
            (agent, ProbeOutcome(nonce: nonces[agent] ?? "", answered: latency[agent] != nil, latencyMs: latency[agent]))
        })
    }

    static func newNonce() -> String {
        (0..<4).map { _ in String(format: "%04x", UInt16.random(in: 0...UInt16.max)) }.joined()
    }
}
