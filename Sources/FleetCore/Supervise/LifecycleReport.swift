import Foundation

/// What the daemon's supervisor last made of each agent, for `fleet ps`: `<run>/lifecycle.json`,
/// rewritten by the daemon after every step and removed when it stops. It is the daemon's own
/// heartbeat too: a report older than `staleAfter` is not believed (the daemon is gone or stuck),
/// so `ps` never shows a dead daemon's "running" as news.
public struct LifecycleReport: Codable, Sendable, Equatable {
    public var daemonPid: Int32
    public var updated: String
    /// The daemon's reconcile interval, which bounds how old a live daemon's report can be.
    public var intervalSeconds: Double
    /// `recovering k/N` after a mass death; nil otherwise.
    public var recovery: Recovery?
    public var agents: [String: AgentLifecycle]

    public struct Recovery: Codable, Sendable, Equatable {
        public var done: Int
        public var total: Int
        public init(done: Int, total: Int) { self.done = done; self.total = total }
    }

    public init(daemonPid: Int32, updated: Date, interval: Duration, recovery: Recovery?, agents: [String: AgentLifecycle]) {
        self.daemonPid = daemonPid
        self.updated = Timestamp.format(updated)
        intervalSeconds = interval.timeInterval
        self.recovery = recovery
        self.agents = agents
    }

    /// A live daemon rewrites the report every interval; one step may take a while (paced starts).
    public var staleAfter: TimeInterval { max(3 * intervalSeconds, 30) }

    /// Whether the report is recent enough to stand for a running daemon at `now`.
    public func isCurrent(now: Date) -> Bool {
        guard let at = Timestamp.parse(updated) else { return false }
        let age = now.timeIntervalSince(at)
        return age <= staleAfter && age >= -intervalSeconds
    }

    public func serialized() throws -> String {
        try OrderedJSONEncoder().render(self, pretty: false) + "\n"
    }

    public static func parse(_ text: String) -> LifecycleReport? {
        try? JSONDecoder().decode(LifecycleReport.self, from: Data(text.utf8))
    }
}

/// One agent in the supervisor's eyes, as `ps --json` shows it under `lifecycle`.
public struct AgentLifecycle: Codable, Sendable, Equatable {
    /// The supervisor's state by name; one a newer daemon writes and this binary does not know is
    /// kept as `other`, so its report (or a remote `ps --json`) still reads.
    public enum State: RawRepresentable, Codable, Sendable, Equatable {
        case starting, running, backoff, recovering, exited, failed, stoppedByUser
        case other(String)

        public init(rawValue: String) {
            switch rawValue {
            case "starting": self = .starting
            case "running": self = .running
            case "backoff": self = .backoff
            case "recovering": self = .recovering
            case "exited": self = .exited
            case "failed": self = .failed
            case "stopped-by-user": self = .stoppedByUser
            default: self = .other(rawValue)
            }
        }

        public var rawValue: String {
            switch self {
            case .starting: "starting"
            case .running: "running"
            case .backoff: "backoff"
            case .recovering: "recovering"
            case .exited: "exited"
            case .failed: "failed"
            case .stoppedByUser: "stopped-by-user"
            case .other(let name): name
            }
        }
    }

    public var state: State
    /// When that state began (running, starting, stopped-by-user) or ends (backoff).
    public var since: String?
    public var until: String?
    /// failed: why (`crash loop: more than 5 restarts within 10m`); stopped-by-user: who.
    public var reason: String?
    /// Restarts within the crash-loop window.
    public var restarts: Int
    public var lastExit: AgentExit?

    public init(state: State, since: String? = nil, until: String? = nil, reason: String? = nil, restarts: Int, lastExit: AgentExit?) {
        self.state = state
        self.since = since
        self.until = until
        self.reason = reason
        self.restarts = restarts
        self.lastExit = lastExit
    }

    public init(_ lifecycle: AgentLifecycleState, restarts: Int, lastExit: AgentExit?) {
        switch lifecycle {
        case .starting(let since): self.init(state: .starting, since: Timestamp.format(since), restarts: restarts, lastExit: lastExit)
        case .running(let since): self.init(state: .running, since: Timestamp.format(since), restarts: restarts, lastExit: lastExit)
        case .backoff(let until): self.init(state: .backoff, until: Timestamp.format(until), restarts: restarts, lastExit: lastExit)
        case .recovering: self.init(state: .recovering, restarts: restarts, lastExit: lastExit)
        case .exited(let exit): self.init(state: .exited, restarts: restarts, lastExit: exit ?? lastExit)
        case .failed(let reason, let exit):
            let why: String
            switch reason {
            case .crashLoop(let count, let window): why = "crash loop: more than \(count) restarts within \(DurationText.format(window))"
            }
            self.init(state: .failed, reason: why, restarts: restarts, lastExit: exit ?? lastExit)
        case .stoppedByUser(let actor, let at):
            self.init(state: .stoppedByUser, since: Timestamp.format(at), reason: actor, restarts: restarts, lastExit: lastExit)
        }
    }

    /// The table's cell: `running`, `backoff 8s`, `failed`, `stopped by alice`, `recovering`.
    public func cell(now: Date) -> String {
        switch state {
        case .backoff:
            let left = until.flatMap(Timestamp.parse).map { max(0, $0.timeIntervalSince(now)) } ?? 0
            return "backoff \(Duration.compact(ms: Int((left * 1000).rounded(.up))))"
        case .stoppedByUser: return "stopped by \(reason ?? "user")"
        default: return state.rawValue
        }
    }

    /// Why a failed agent stays down, with its last exit: the sentence `ps` ends with.
    public var failureSentence: String? {
        guard state == .failed else { return nil }
        var text = "failed (\(reason ?? "crash loop"))"
        if let exit = lastExit {
            if let signal = exit.signal { text += ", last exit \(PaneFormat.signalName(signal))" }
            else if let status = exit.status { text += ", last exit status \(status)" }
            if let line = exit.lastOutputLine, !line.isEmpty { text += ": \"\(line)\"" }
        }
        return text
    }
}

extension FleetPaths {
    /// The daemon's lifecycle report (see `LifecycleReport`).
    public var lifecycleReport: String { "\(runDirectory)/lifecycle.json" }
}

// Every key written, `null` where unknown: the `ps --json` contract (see FleetDocument).
extension AgentLifecycle {
    enum CodingKeys: String, CodingKey { case state, since, until, reason, restarts, lastExit }
    enum ExitKeys: String, CodingKey { case status, signal, lastOutput }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(since, forKey: .since)
        try c.encode(until, forKey: .until)
        try c.encode(reason, forKey: .reason)
        try c.encode(restarts, forKey: .restarts)
        if let lastExit {
            var e = c.nestedContainer(keyedBy: ExitKeys.self, forKey: .lastExit)
            try e.encode(lastExit.status, forKey: .status)
            try e.encode(lastExit.signal, forKey: .signal)
            try e.encode(lastExit.lastOutputLine, forKey: .lastOutput)
        } else {
            try c.encodeNil(forKey: .lastExit)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var exit: AgentExit?
        if try c.contains(.lastExit) && !c.decodeNil(forKey: .lastExit) {
            let e = try c.nestedContainer(keyedBy: ExitKeys.self, forKey: .lastExit)
            exit = AgentExit(status: try e.decodeIfPresent(Int32.self, forKey: .status), signal: try e.decodeIfPresent(Int32.self, forKey: .signal),
                             lastOutputLine: try e.decodeIfPresent(String.self, forKey: .lastOutput))
        }
        self.init(state: try c.decode(State.self, forKey: .state), since: try c.decodeIfPresent(String.self, forKey: .since),
                  until: try c.decodeIfPresent(String.self, forKey: .until), reason: try c.decodeIfPresent(String.self, forKey: .reason),
                  restarts: try c.decode(Int.self, forKey: .restarts), lastExit: exit)
    }
}
