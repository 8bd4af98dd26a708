import Foundation
import Synchronization

/// Keeps one agent's heartbeat fresh from inside its runtime: writes every interval, at once on
/// a status change or acknowledgement, and as soon as a probe request appears (the run
/// directory is watched for the agent's `.probe` file; no timer polls it).
public final class HeartbeatResponder: Sendable {
    public let store: HeartbeatStore
    public let agent: String
    public let interval: Duration
    public let pid: Int32
    /// How often a closed gate is asked again (it judges /proc, which has no change events), and
    /// how often the probe file is looked at when the run directory cannot be watched.
    public let probePoll: Duration

    private struct State {
        var status = "ok"
        var ack: String?
        var extra: [(String, String)] = []
        var answered: String?
        var task: Task<Void, Never>?
        var gate: (@Sendable () -> Bool)?
        var writeFailures = 0
        var lastError: String?
    }

    private let state = Mutex(State())

    public init(store: HeartbeatStore, agent: String, interval: Duration, pid: Int32 = getpid(),
                probePoll: Duration = .milliseconds(20)) {
        self.store = store
        self.agent = agent
        self.interval = interval
        self.pid = pid
        self.probePoll = probePoll
    }

    /// Asked before every write; `false` writes nothing, so the heartbeat goes stale. A sidecar
    /// that writes for another process passes "that process is alive and not stopped" here.
    /// Set it before `start()`.
    public var gate: (@Sendable () -> Bool)? {
        get { state.withLock { $0.gate } }
        set { state.withLock { $0.gate = newValue } }
    }

    /// Write failures are counted, never thrown from the background task.
    public var writeFailures: Int { state.withLock { $0.writeFailures } }
    public var lastError: String? { state.withLock { $0.lastError } }

    /// Starts beating. `watch`: a watch of the run directory that covers the agent's probe file,
    /// shared with the caller (inotify instances are few per user); else the responder makes one.
    public func start(sharing shared: FileWatch? = nil) {
        beat()
        var watch = shared
        if watch == nil {
            do {
                watch = try store.host.watch(directory: store.directory, names: [probeFileName])
            } catch {
                Log.core.notice("probes to \(agent) are polled every \(probePoll): \(error)")
            }
        }
        let task = Task.detached { [self] in await self.loop(watch) }
        state.withLock { $0.task = task }
    }

    public func stop() { state.withLock { $0.task }?.cancel() }

    /// The probe file's name in the run directory (what a shared watch must cover).
    public var probeFileName: String { (store.probePath(agent) as NSString).lastPathComponent }

    public func setStatus(_ newStatus: String) {
        state.withLock { $0.status = newStatus }
        beat()
    }

    /// Records that the message with this id was taken, and says so at once.
    public func acknowledge(_ id: String) {
        state.withLock { $0.ack = id }
        beat()
    }

    /// Sets status, acknowledged id and extra keys together, and says so at once.
    public func report(status newStatus: String, ack newAck: String?, extra newExtra: [(String, String)]) {
        state.withLock {
            $0.status = newStatus
            $0.ack = newAck
            $0.extra = newExtra
        }
        beat()
    }

    /// Writes one heartbeat now, answering a pending probe if there is one. Returns whether it
    /// wrote (the gate may say no).
    @discardableResult
    public func beat() -> Bool {
        if let gate = state.withLock({ $0.gate }), !gate() { return false }
        let pending = store.pendingProbe(agent)
        let (status, ack, extra) = state.withLock { ($0.status, $0.ack, $0.extra) }
        do {
            try store.write(Heartbeat(ts: store.host.now(), pid: pid, status: status, nonce: pending, ack: ack, extra: extra),
                            for: agent)
            state.withLock { $0.answered = pending }
            return true
        } catch {
            state.withLock {
                $0.writeFailures += 1
                $0.lastError = "\(error)"
            }
            return false
        }
    }

    /// Wakes when the probe file changes or the interval is due. `last` moves only when a beat
    /// was written: once a closed gate opens again, the next heartbeat follows at once instead
    /// of an interval later.
    private func loop(_ watch: FileWatch?) async {
        let clock = ContinuousClock()
        var last = clock.now
        var gateClosed = false
        while !Task.isCancelled {
            let seen = watch?.generation ?? 0
            let pending = store.pendingProbe(agent)
            let alreadyAnswered = state.withLock { $0.answered }
            let now = clock.now
            if now - last >= interval || (pending != nil && pending != alreadyAnswered) {
                if beat() {
                    last = now
                    gateClosed = false
                } else {
                    gateClosed = true
                }
            }
            let untilDue = last + interval - clock.now
            if let watch, !gateClosed {
                _ = await watch.wait(after: seen, timeout: max(untilDue, .milliseconds(1)))
            } else {
                do { try await Task.sleep(for: watch == nil ? min(probePoll, max(untilDue, .milliseconds(1))) : probePoll) } catch { return }
            }
        }
    }
}
