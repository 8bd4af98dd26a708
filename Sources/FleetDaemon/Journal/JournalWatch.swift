import FleetCore
import Foundation
import Synchronization

/// Wakes when a file of the journal changes, whoever wrote it (the daemon or a CLI verb in
/// another process): the Host's inotify watch on the directory, narrowed to the journal's files,
/// so a journal replaced or created anew is seen too. Polled only where the user has no inotify
/// instance left (see `FileWatch.polling`).
public final class JournalWatch: Sendable {
    private let watch: FileWatch
    public var polling: Bool { watch.polling }
    private let pump: Mutex<Task<Void, Never>?>
    /// One element per burst of changes (coalesced: a reader catches up on all rows at once).
    public let changes: AsyncStream<Void>

    public init(journalPath: String, host: any FleetCore.Host = LocalHost()) throws {
        let directory = (journalPath as NSString).deletingLastPathComponent
        let base = (journalPath as NSString).lastPathComponent
        let watch: FileWatch
        do {
            watch = try host.watch(directory: directory, names: [base, base + "-wal", base + "-shm", base + "-journal"])
        } catch {
            throw JournalError.unavailable(path: journalPath, reason: "cannot watch its directory: \(error)")
        }
        self.watch = watch
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        changes = stream
        pump = Mutex(Task {
            var seen = watch.generation
            while !Task.isCancelled {
                // A long bound only so cancellation is noticed; a change wakes it at once.
                if await watch.wait(after: seen, timeout: .seconds(3600)) {
                    seen = watch.generation
                    continuation.yield()
                }
            }
            continuation.finish()
        })
    }

    /// Stops watching and ends `changes`.
    public func cancel() {
        pump.withLock { $0?.cancel(); $0 = nil }
        watch.changed()
    }

    deinit { cancel() }
}
