import Foundation

/// Keeps one agent's heartbeat fresh from inside its runtime: writes every interval, at once on
/// a status change or acknowledgement, and within a few tens of milliseconds of a probe.
public final class HeartbeatResponder: @unchecked Sendable {
    public let store: HeartbeatStore
    public let agent: String
    public let interval: Duration
    public let pid: Int32
    /// How often the probe file is looked at; bounds probe latency.
    public var probePoll: Duration = .milliseconds(20)

    private let lock = NSLock()
    private var status = "ok"
    private var ack: String?
    private var extra: [(String, String)] = []
    private var answered: String?
    private var running = false
    private var thread: Thread?
    /// Asked before every write; `false` writes nothing, so the heartbeat goes stale. A sidecar
    /// that writes for another process passes "that process is alive and not stopped" here.
    /// Set it before `start()`.
    public var gate: (@Sendable () -> Bool)?
    /// Write failures are counted, never thrown from the background thread.
    public private(set) var writeFailures = 0
    public private(set) var lastError: String?

    public init(store: HeartbeatStore, agent: String, interval: Duration, pid: Int32 = getpid()) {
        self.store = store
        self.agent = agent
        self.interval = interval
        self.pid = pid
    }

    public func start() {
        lock.withLock { running = true }
        beat()
        let thread = Thread { [self] in loop() }
        thread.name = "heartbeat"
        self.thread = thread
        thread.start()
    }

    public func stop() { lock.withLock { running = false } }

    public func setStatus(_ newStatus: String) {
        lock.withLock { status = newStatus }
        beat()
    }

    /// Records that the message with this id was taken, and says so at once.
    public func acknowledge(_ id: String) {
        lock.withLock { ack = id }
        beat()
    }

    /// Sets status, acknowledged id and extra keys together, and says so at once.
    public func report(status newStatus: String, ack newAck: String?, extra newExtra: [(String, String)]) {
        lock.withLock {
            status = newStatus
            ack = newAck
            extra = newExtra
        }
        beat()
    }

    /// Writes one heartbeat now, answering a pending probe if there is one. Returns whether it
    /// wrote (the gate may say no).
    @discardableResult
    public func beat() -> Bool {
        if let gate, !gate() { return false }
        let pending = store.pendingProbe(agent)
        let (status, ack, extra) = lock.withLock { (self.status, self.ack, self.extra) }
        do {
            try store.write(Heartbeat(ts: Date(), pid: pid, status: status, nonce: pending, ack: ack, extra: extra), for: agent)
            lock.withLock { answered = pending }
            return true
        } catch {
            lock.withLock {
                writeFailures += 1
                lastError = "\(error)"
            }
            return false
        }
    }

    private func loop() {
        var last = DispatchTime.now().uptimeNanoseconds
        let period = UInt64(interval.nanoseconds)
        while lock.withLock({ running }) {
            Thread.sleep(forTimeInterval: probePoll.milliseconds / 1000)
            let now = DispatchTime.now().uptimeNanoseconds
            let pending = store.pendingProbe(agent)
            let alreadyAnswered = lock.withLock { answered }
            // `last` moves only when a beat was written: once a gate opens again, the next
            // heartbeat follows at once instead of an interval later.
            if now - last >= period || (pending != nil && pending != alreadyAnswered), beat() {
                last = now
            }
        }
    }
}
