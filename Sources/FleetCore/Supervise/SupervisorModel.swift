import Foundation

/// How an agent's runtime ended, as far as the planes know.
public struct AgentExit: Sendable, Equatable, Codable {
    /// The exit status; nil when it ended by a signal or the status is not known (yet).
    public var status: Int32?
    public var signal: Int32?
    /// The last line the pane printed, for the journal and `ps`.
    public var lastOutputLine: String?

    public init(status: Int32? = nil, signal: Int32? = nil, lastOutputLine: String? = nil) {
        self.status = status
        self.signal = signal
        self.lastOutputLine = lastOutputLine
    }

    /// Exit status 0 and no signal. An exit nobody saw is not clean.
    public var isClean: Bool { status == 0 && signal == nil }
}

/// The pane of one agent, as one snapshot saw it.
public enum PaneObservation: Sendable, Equatable {
    case running
    case dead(AgentExit)
    /// No session (never started, killed, or the server is gone).
    case absent
}

/// Why an agent whose pane runs is judged hung.
public enum HangReason: String, Sendable, Equatable, Codable {
    case heartbeatStale = "heartbeat-stale"
    case probeUnanswered = "probe-unanswered"
    case silentWhileBusy = "silent-while-busy"
    /// Started, but never healthy within the start timeout.
    case neverHealthy = "never-healthy"
}

/// The agent's health as the heartbeat plane (and probes) report it.
public enum HealthObservation: Sendable, Equatable {
    case healthy
    /// No verdict yet (no heartbeat since the start).
    case unknown
    case hung(HangReason)
}

/// One agent in one batched snapshot.
public struct AgentObservation: Sendable, Equatable {
    public var name: String
    public var pane: PaneObservation
    public var health: HealthObservation

    public init(name: String, pane: PaneObservation, health: HealthObservation = .unknown) {
        self.name = name
        self.pane = pane
        self.health = health
    }
}

/// What the supervisor is told about the fleet each time it looks.
public struct FleetObservation: Sendable, Equatable {
    public var serverRunning: Bool
    /// Roster agents missing here count as `absent`.
    public var agents: [AgentObservation]

    public init(serverRunning: Bool, agents: [AgentObservation]) {
        self.serverRunning = serverRunning
        self.agents = agents
    }
}

/// Why the supervisor gave up on an agent.
public enum FailureReason: Sendable, Equatable {
    /// More than `restarts` restarts within `window`.
    case crashLoop(restarts: Int, window: Duration)
}

/// Where one agent stands in the supervisor's eyes.
public enum AgentLifecycleState: Sendable, Equatable {
    /// A start (or restart) is in flight: it holds a pacing slot until healthy, dead or timed out.
    case starting(since: Date)
    /// The pane runs and no start of ours is in flight.
    case running(since: Date)
    /// Dead, restart due at `until`.
    case backoff(until: Date)
    /// A start is due and waits for a pacing slot (or for the tmux server to come back).
    case recovering
    /// Ended, and its restart policy keeps it down.
    case exited(AgentExit?)
    case failed(FailureReason, lastExit: AgentExit?)
    /// An operator stopped it; the supervisor never undoes that.
    case stoppedByUser(actor: String, at: Date)
}

/// The probable cause the `mass-death` event names.
public enum MassDeathCause: Sendable, Equatable {
    case serverGone
    /// Every death came from this signal.
    case sameSignal(Int32)
    /// Found dead when the daemon started: they died while it was down, or with it.
    case daemonRestart
    case unknown
}

/// The journal's event kinds.
public enum SupervisorEventKind: String, Sendable, Codable, CaseIterable {
    case adopted, started, exited, restarted, backoff, failed, stopped, hung, recovered
    case massDeath = "mass-death"
}

/// One lifecycle event, with what the journal keeps of it.
public enum SupervisorEvent: Sendable, Equatable {
    /// Found running when the supervisor first looked; left as it was.
    case adopted(String)
    case started(String)
    /// nil: the session vanished, nobody saw how it ended.
    case exited(String, AgentExit?)
    /// `attempt`: restarts within the crash-loop window, this one included.
    case restarted(String, attempt: Int)
    case backoff(String, delay: Duration, until: Date)
    case failed(String, FailureReason, lastExit: AgentExit?)
    case stopped(String, actor: String)
    case hung(String, HangReason)
    /// A hung agent is healthy again.
    case recovered(String)
    /// Every agent of a mass death is back, or settled (failed, stopped, down by policy).
    case recoveryComplete(total: Int)
    case massDeath(cause: MassDeathCause, dead: Int, fleet: Int)

    public var kind: SupervisorEventKind {
        switch self {
        case .adopted: .adopted
        case .started: .started
        case .exited: .exited
        case .restarted: .restarted
        case .backoff: .backoff
        case .failed: .failed
        case .stopped: .stopped
        case .hung: .hung
        case .recovered, .recoveryComplete: .recovered
        case .massDeath: .massDeath
        }
    }

    /// The agent it is about; nil for fleet-wide events.
    public var agent: String? {
        switch self {
        case .adopted(let a), .started(let a), .exited(let a, _), .restarted(let a, _), .backoff(let a, _, _),
             .failed(let a, _, _), .stopped(let a, _), .hung(let a, _), .recovered(let a):
            a
        case .recoveryComplete, .massDeath:
            nil
        }
    }
}

/// What the supervisor asks its host (the daemon) to do.
public enum SupervisorDecision: Sendable, Equatable {
    /// Start an agent that is not running (its first start under this supervisor).
    case start(String)
    /// Start a dead agent again (or replace a hung one).
    case restart(String)
    /// Call `observe` again at `until`: a backoff ends then.
    case wait(String, until: Date)
    case markFailed(String, FailureReason)
    /// Write to the journal.
    case event(SupervisorEvent)
}

/// The rules the supervisor applies, from the roster.
public struct SupervisorPolicy: Sendable, Equatable {
    public struct Agent: Sendable, Equatable {
        public var name: String
        public var restart: RestartPolicy
        public var onHang: HangPolicy
        public init(name: String, restart: RestartPolicy = .always, onHang: HangPolicy = .notify) {
            self.name = name
            self.restart = restart
            self.onHang = onHang
        }
    }

    /// In roster order: pacing starts agents in this order.
    public var agents: [Agent]
    public var lifecycle: Lifecycle
    /// A start not healthy within this long stops holding a pacing slot (and is reported hung).
    public var startTimeout: Duration

    public init(agents: [Agent], lifecycle: Lifecycle = Lifecycle(), startTimeout: Duration = .seconds(60)) {
        self.agents = agents
        self.lifecycle = lifecycle
        self.startTimeout = startTimeout
    }

    /// The roster's policies; a start may take three heartbeat intervals (at least a minute).
    public init(roster: Roster) {
        self.init(agents: roster.agents.map { Agent(name: $0.name, restart: roster.restartPolicy(of: $0), onHang: roster.hangPolicy(of: $0)) },
                  lifecycle: roster.lifecycle,
                  startTimeout: .seconds(max(60, 3 * roster.heartbeatIntervalSeconds)))
    }
}
