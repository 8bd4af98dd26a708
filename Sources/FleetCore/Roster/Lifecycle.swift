import Foundation

/// What the supervisor does when an agent's runtime ends.
public enum RestartPolicy: String, Sendable, Equatable, Codable, CaseIterable {
    /// Restart after every exit, clean or not.
    case always
    /// Restart only after a non-zero exit status, a signal, or an exit nobody saw (the pane vanished).
    case onFailure = "on-failure"
    /// Never restart; the agent stays down until someone starts it.
    case never

    public static var allNames: String { allCases.map(\.rawValue).joined(separator: " | ") }
}

/// What the supervisor does with a hung agent (heartbeat stale, probe unanswered, silent while busy).
public enum HangPolicy: String, Sendable, Equatable, Codable, CaseIterable {
    /// A `hung` event only.
    case notify
    /// A `hung` event, then a restart.
    case restart

    public static var allNames: String { allCases.map(\.rawValue).joined(separator: " | ") }
}

/// The fleet-wide lifecycle policy: the roster's `lifecycle:` block, every field defaulted.
public struct Lifecycle: Sendable, Equatable, Codable {
    /// Exponential delay between restarts: `initial`, doubling, never above `max`.
    public struct Backoff: Sendable, Equatable, Codable {
        public var initial: Duration
        public var max: Duration
        public init(initial: Duration = .seconds(1), max: Duration = .seconds(60)) {
            self.initial = initial
            self.max = max
        }
    }

    /// More than `restarts` restarts within `window` is a crash loop: the agent is failed.
    public struct CrashLoop: Sendable, Equatable, Codable {
        public var restarts: Int
        public var window: Duration
        public init(restarts: Int = 5, window: Duration = .seconds(600)) {
            self.restarts = restarts
            self.window = window
        }
    }

    /// At least `fraction` of the fleet, and at least `minAgents`, dying within `window`.
    public struct MassDeath: Sendable, Equatable, Codable {
        public var fraction: Double
        public var minAgents: Int
        public var window: Duration
        public init(fraction: Double = 0.5, minAgents: Int = 3, window: Duration = .seconds(10)) {
            self.fraction = fraction
            self.minAgents = minAgents
            self.window = window
        }
    }

    /// The policy of agents that name none.
    public var restart: RestartPolicy
    /// The hang policy of agents that name none.
    public var onHang: HangPolicy
    public var backoff: Backoff
    /// An agent healthy this long starts its backoff from the beginning again.
    public var resetAfter: Duration
    public var crashLoop: CrashLoop
    /// Starts in flight at once (a start is in flight until the agent is healthy or has failed).
    public var maxConcurrentStarts: Int
    public var massDeath: MassDeath

    public init(restart: RestartPolicy = .always, onHang: HangPolicy = .notify, backoff: Backoff = Backoff(),
                resetAfter: Duration = .seconds(300), crashLoop: CrashLoop = CrashLoop(), maxConcurrentStarts: Int = 4,
                massDeath: MassDeath = MassDeath()) {
        self.restart = restart
        self.onHang = onHang
        self.backoff = backoff
        self.resetAfter = resetAfter
        self.crashLoop = crashLoop
        self.maxConcurrentStarts = maxConcurrentStarts
        self.massDeath = massDeath
    }
}

/// Durations as the roster writes them: a whole number and a unit, `500ms`, `1s`, `5m`, `1h`.
public enum DurationText {
    public static let formatDescription = "a whole number and a unit: ms, s, m or h (such as 500ms, 1s, 5m, 1h)"

    public static func parse(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9, let value = Int64(digits) else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        default: return nil
        }
    }

    /// The shortest exact form: `1500ms`, `90s`, `5m`, `1h`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        let s = ms / 1000
        if s != 0 && s % 3600 == 0 { return "\(s / 3600)h" }
        if s != 0 && s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }
}

extension Duration {
    /// The duration in seconds, for date arithmetic.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
