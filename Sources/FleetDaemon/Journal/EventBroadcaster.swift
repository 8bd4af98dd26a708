import Foundation

/// Hands every new journal row to the API's live streams. A subscriber that falls more than
/// `buffer` rows behind loses the oldest (a stream resumes by id, so nothing is lost for good).
public actor EventBroadcaster {
    private var subscribers: [UInt64: AsyncStream<JournalEvent>.Continuation] = [:]
    private var nextId: UInt64 = 0
    private var finished = false
    private let buffer: Int

    public init(buffer: Int = 10_000) { self.buffer = buffer }

    /// A stream of the events published from now on; it ends when `finish()` is called (at shutdown).
    public func subscribe() -> (id: UInt64, events: AsyncStream<JournalEvent>) {
        let (stream, continuation) = AsyncStream<JournalEvent>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        nextId += 1
        if finished { continuation.finish() } else { subscribers[nextId] = continuation }
        let ready = waiters.filter { $0.count <= subscribers.count }
        waiters.removeAll { $0.count <= subscribers.count }
        ready.forEach { $0.continuation.resume() }
        return (nextId, stream)
    }

    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    /// Returns once at least `count` streams are subscribed (tests, and anyone who must not
    /// publish before a listener is there).
    public func untilSubscribed(_ count: Int = 1) async {
        guard subscribers.count < count else { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }

    public func unsubscribe(_ id: UInt64) {
        subscribers.removeValue(forKey: id)?.finish()
    }

    public func publish(_ events: [JournalEvent]) {
        for continuation in subscribers.values {
            for event in events { continuation.yield(event) }
        }
    }

    public var subscriberCount: Int { subscribers.count }

    /// Ends every stream, and every later one at once.
    public func finish() {
        finished = true
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }
}
