import Foundation

/// Whether the runtime process really runs, as `fleet ps` judges it from the pane's process tree.
public enum RunState: String, Sendable, Codable, CaseIterable {
    case running, stopped
    /// The pane went back to a shell or runs something else.
    case notRunning = "not-running"
    /// The pane is dead.
    case exited
}

extension RuntimeLiveness {
    /// How `fleet ps` reports this judgement.
    public var runState: RunState {
        switch self {
        case .running: return .running
        case .stopped: return .stopped
        case .notRunning: return .notRunning
        case .gone: return .exited
        }
    }
}

/// What a runtime reports it is doing, in its heartbeat's `status`.
public enum ReportedState: Sendable, Hashable, Codable, RawRepresentable {
    case ok, busy, waiting
    /// A word this version does not know, kept as the runtime wrote it (protocol v1 allows that).
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "ok": self = .ok
        case "busy": self = .busy
        case "waiting": self = .waiting
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .ok: return "ok"
        case .busy: return "busy"
        case .waiting: return "waiting"
        case .other(let word): return word
        }
    }

    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// With `waiting`: what the runtime waits for (`input` or `approval`).
public typealias WaitingFor = RuntimeState.WaitingFor

extension RuntimeState.WaitingFor: Codable {}

extension Heartbeat {
    /// The `status` line as a state.
    public var reportedState: ReportedState { ReportedState(rawValue: status) }

    /// While waiting, what for (the `waiting=` key), where the runtime says it and this version knows the word.
    public var waitingFor: WaitingFor? {
        guard reportedState == .waiting else { return nil }
        return extra.first(where: { $0.0 == "waiting" }).flatMap { WaitingFor(rawValue: $0.1) }
    }
}

/// The kernel's one-letter process state (`/proc/<pid>/stat` field 3); JSON carries the letter.
public enum ProcessState: Sendable, Hashable, Codable, RawRepresentable {
    case running, sleeping, diskSleep, stopped, tracingStop, zombie, dead, idle
    /// A letter this version does not name (old kernels have more), kept as read.
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "R": self = .running
        case "S": self = .sleeping
        case "D": self = .diskSleep
        case "T": self = .stopped
        case "t": self = .tracingStop
        case "Z": self = .zombie
        case "X": self = .dead
        case "I": self = .idle
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .running: return "R"
        case .sleeping: return "S"
        case .diskSleep: return "D"
        case .stopped: return "T"
        case .tracingStop: return "t"
        case .zombie: return "Z"
        case .dead: return "X"
        case .idle: return "I"
        case .other(let letter): return letter
        }
    }

    public var isStopped: Bool { self == .stopped || self == .tracingStop }

    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The process that stands for the runtime: the pane's process, or the runtime under a wrapper.
public struct RuntimeProcess: Sendable, Equatable, Codable {
    public var pid: Int32
    public var command: String
    public var state: ProcessState

    public init(pid: Int32, command: String, state: ProcessState) {
        self.pid = pid
        self.command = command
        self.state = state
    }

    public init(_ node: ProcessNode) { self.init(pid: node.pid, command: node.comm, state: ProcessState(rawValue: node.state)) }
}

/// The agent unit as systemd names its state: `active/exited`, or `inactive` for a unit systemd
/// has not loaded. Both words are systemd's own (an open set), kept as it says them.
public struct SystemdState: Sendable, Equatable, Codable, CustomStringConvertible {
    /// systemd's ActiveState: `active`, `inactive`, `failed`, `activating`, …
    public var active: String
    /// systemd's SubState (`exited`, `running`, `dead`, …); `nil` for a unit not loaded.
    public var sub: String?

    public init(active: String, sub: String?) {
        self.active = active
        self.sub = sub
    }

    public static let notLoaded = SystemdState(active: "inactive", sub: nil)

    public var description: String { active + (sub.map { "/\($0)" } ?? "") }

    public init(_ text: String) {
        if let slash = text.firstIndex(of: "/") {
            self.init(active: String(text[..<slash]), sub: String(text[text.index(after: slash)...]))
        } else {
            self.init(active: text, sub: nil)
        }
    }

    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why an agent is not healthy, or what else about it needs attention. Each renders its sentence
/// here and only here; `ps --json` carries the sentences, and reads them back into cases.
public enum Problem: Sendable, Hashable, Codable, CustomStringConvertible {
    case noServer
    case noSession
    /// The pane's process exited; the status where tmux (or the zombie) knows it.
    case exited(status: Int32?)
    case killed(signal: Int32)
    /// The last line a dead pane showed.
    case lastOutput(String)
    /// The runtime (or the pane's process) is stopped; `command`/`pid` name the stopped process
    /// when it is not the pane's own.
    case processStopped(command: String?, pid: Int32?)
    case runtimeNotRunning(paneRuns: String)
    case noHeartbeat
    case heartbeatStale
    /// The heartbeat is dated ahead of the clock by more than one interval.
    case heartbeatFuture
    case probeUnanswered
    /// Busy with a still screen, for `seconds` (the sentence shows them as the table does).
    case silentBusy(seconds: Int)
    /// The pane runs something the runtime never runs as.
    case drift(runsAs: String?)
    case notEnabledAtBoot
    case lingerOff
    /// The planes disagree: systemd says the agent's unit is active, tmux has no live pane for it.
    case unitActiveWithoutPane
    /// A sentence this version does not know (from another version's `ps --json`), kept as is.
    case unrecognized(String)

    public var sentence: String {
        switch self {
        case .noServer: return "tmux server not running"
        case .noSession: return "no tmux session"
        case .exited(let status): return "exited" + (status.map { " with status \($0)" } ?? "")
        case .killed(let signal): return "killed by \(PaneFormat.signalName(signal))"
        case .lastOutput(let line): return "last output: \(line)"
        case .processStopped(let command, let pid):
            return "process stopped" + (command.map { " (\($0)" + (pid.map { " \($0)" } ?? "") + ")" } ?? "")
        case .runtimeNotRunning(let paneRuns): return "runtime not running (pane runs \(paneRuns))"
        case .noHeartbeat: return "no heartbeat"
        case .heartbeatStale: return "heartbeat stale"
        case .heartbeatFuture: return "heartbeat dated ahead of the clock"
        case .probeUnanswered: return "probe unanswered"
        case .silentBusy(let seconds): return "busy, but its screen has not changed for \(Duration.compact(seconds: seconds)): hung?"
        case .drift(let runsAs): return "drift: runs \(runsAs ?? "?")"
        case .notEnabledAtBoot: return "not enabled at boot"
        case .lingerOff: return "linger off"
        case .unitActiveWithoutPane: return "systemd unit active, but no live pane"
        case .unrecognized(let sentence): return sentence
        }
    }

    public var description: String { sentence }

    /// Whether this explains why the agent is unhealthy (the table's summary line lists only
    /// these); drift and boot warnings need attention but leave an agent healthy.
    public var explainsUnhealthy: Bool {
        switch self {
        case .drift, .notEnabledAtBoot, .lingerOff: return false
        default: return true
        }
    }

    /// Reads a sentence back; one this version never writes is `unrecognized`.
    public init(sentence: String) {
        func after(_ prefix: String, before suffix: String = "") -> String? {
            guard sentence.hasPrefix(prefix), sentence.hasSuffix(suffix), sentence.count >= prefix.count + suffix.count else { return nil }
            return String(sentence.dropFirst(prefix.count).dropLast(suffix.count))
        }
        let fixed: [Problem] = [.noServer, .noSession, .exited(status: nil), .processStopped(command: nil, pid: nil), .noHeartbeat,
                                .heartbeatStale, .heartbeatFuture, .probeUnanswered, .notEnabledAtBoot, .lingerOff, .unitActiveWithoutPane]
        if let problem = fixed.first(where: { $0.sentence == sentence }) {
            self = problem
        } else if let status = after("exited with status ").flatMap({ Int32($0) }) {
            self = .exited(status: status)
        } else if let name = after("killed by "), let signal = (1...64).first(where: { PaneFormat.signalName($0) == name }) {
            self = .killed(signal: signal)
        } else if let line = after("last output: ") {
            self = .lastOutput(line)
        } else if let named = after("process stopped (", before: ")") {
            let parts = named.split(separator: " ")
            if parts.count > 1, let pid = Int32(parts.last!) {
                self = .processStopped(command: parts.dropLast().joined(separator: " "), pid: pid)
            } else {
                self = .processStopped(command: named, pid: nil)
            }
        } else if let paneRuns = after("runtime not running (pane runs ", before: ")") {
            self = .runtimeNotRunning(paneRuns: paneRuns)
        } else if let quiet = after("busy, but its screen has not changed for ", before: ": hung?"), let seconds = Duration.seconds(compact: quiet) {
            self = .silentBusy(seconds: seconds)
        } else if let runsAs = after("drift: runs ") {
            self = .drift(runsAs: runsAs == "?" ? nil : runsAs)
        } else {
            self = .unrecognized(sentence)
        }
    }

    public init(from decoder: any Decoder) throws { self.init(sentence: try decoder.singleValueContainer().decode(String.self)) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(sentence)
    }
}

extension Duration {
    /// The seconds a `compact(seconds:)` text stands for, to its precision (`2m` is 120).
    public static func seconds(compact text: String) -> Int? {
        let units: [(String, Int)] = [("ms", 0), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        guard let (suffix, scale) = units.first(where: { text.hasSuffix($0.0) }), let n = Int(text.dropLast(suffix.count)), n >= 0 else {
            return nil
        }
        return n * scale
    }
}
