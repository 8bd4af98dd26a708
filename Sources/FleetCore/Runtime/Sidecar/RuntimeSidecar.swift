import Foundation
import Synchronization

/// Keeps the heartbeat of a runtime that cannot write one itself (Claude Code, Codex, pi,
/// opencode, aider). Started by the pane command just before it `exec`s the runtime, with the
/// pane's pid (which becomes the runtime's), detached from the pane (own session, no terminal).
///
/// - While the runtime is `running` (see `RuntimeLiveness`) it writes the heartbeat every
///   interval and answers probes, carrying the state the runtime last reported (hooks write
///   `<agent>.state`; event files such as aider's are followed here).
/// - While it is stopped, zombie, or not there (the pane went back to a shell), it writes
///   nothing, so the heartbeat goes stale within 3 intervals; `fleet ps` says why.
/// - It exits when the pane's process is gone.
public final class RuntimeSidecar: Sendable {
    public struct Options: Sendable {
        public var agent: String
        public var pid: Int32
        public var adapter: RuntimeAdapter
        public var interval: Duration
        public var heartbeats: HeartbeatStore
        public var states: RuntimeStateStore
        /// Where the process is watched and the files are written.
        public var host: any Host
        /// How often the state file and event files are read, and the process checked.
        public var poll: Duration

        public init(agent: String, pid: Int32, adapter: RuntimeAdapter, interval: Duration, heartbeats: HeartbeatStore,
                    states: RuntimeStateStore, host: any Host = LocalHost(), poll: Duration = .milliseconds(50)) {
            self.agent = agent
            self.pid = pid
            self.adapter = adapter
            self.interval = interval
            self.heartbeats = heartbeats
            self.states = states
            self.host = host
            self.poll = poll
        }
    }

    /// Why the sidecar stopped.
    public enum Exit: Sendable, Equatable {
        /// The pane's process is gone.
        case processGone
        /// `stop()` was called.
        case stopped
    }

    public let options: Options
    /// The event sources, read only by `run`'s thread; the mutex lets the sidecar be shared
    /// with the thread that calls `stop()`.
    private let sources: Mutex<[any RuntimeEventSource]>
    /// Problems worth a line in the sidecar log (unreadable event lines, failed state writes).
    public let log: @Sendable (String) -> Void
    private let running = Mutex(true)

    public init(options: Options, sources: sending [any RuntimeEventSource] = [],
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options
        self.sources = Mutex(sources)
        self.log = log
    }

    public func stop() { running.withLock { $0 = false } }

    /// Runs until the pane's process is gone (or `stop()`); blocks the calling thread.
    public func run() -> Exit {
        let table = ProcessTable(host: options.host)
        guard let first = table.sample(options.pid) else { return .processGone }
        let identity = first.startTime
        let adapter = options.adapter
        let pid = options.pid
        let liveness: @Sendable () -> RuntimeLiveness = {
            RuntimeLiveness.judge(table.sample(pid), adapter: adapter, identity: identity)
        }
        // Reports from before this launch (a previous run of the agent) are not this runtime's.
        // One millisecond early: the files keep whole milliseconds, rounded down, so a report written
        // within the sidecar's first millisecond would otherwise read as older and be ignored for good.
        let started = options.host.now().addingTimeInterval(-0.001)
        let responder = HeartbeatResponder(store: options.heartbeats, agent: options.agent, interval: options.interval, pid: pid)
        responder.gate = { liveness().isRunning }
        // One watch for both waits: the responder's probe file and this loop's state file (the
        // run directory holds both; inotify instances are few per user).
        let stateFile = (options.states.path(options.agent) as NSString).lastPathComponent
        let watch = options.states.directory == options.heartbeats.directory
            ? try? options.host.watch(directory: options.states.directory, names: [stateFile, responder.probeFileName])
            : nil
        responder.start(sharing: watch)
        defer { responder.stop() }

        var reported: RuntimeState?
        var failures = 0
        // A report written by a hook wakes the loop at once (inotify on the state file); otherwise
        // it looks every `poll`: the process's state (stopped, a child gone back to a shell) and a
        // Codex title have no change events, and event files may live outside the run directory.
        var seen = watch?.generation ?? 0
        while running.withLock({ $0 }) {
            if let watch {
                _ = watch.waitBlocking(after: seen, timeout: options.poll)
                // Taken before the state is read: a report landing during this pass wakes the next wait.
                seen = watch.generation
            } else {
                Thread.sleep(forTimeInterval: options.poll.milliseconds / 1000)
            }
            if case .gone = liveness() { return .processGone }
            let found = sources.withLock { sources in sources.map { $0.poll() } }
            for poll in found {
                poll.problems.forEach(log)
                for update in poll.updates {
                    do { try options.states.apply(update, for: options.agent) } catch { log("cannot record \(update.event): \(error)") }
                }
            }
            if let state = options.states.read(options.agent), state.ts >= started, state != reported {
                reported = state
                responder.report(status: state.status.rawValue, ack: state.ack, extra: state.heartbeatExtra)
            }
            if responder.writeFailures > failures {
                failures = responder.writeFailures
                log("cannot write the heartbeat: \(responder.lastError ?? "unknown error")")
            }
        }
        return .stopped
    }
}
