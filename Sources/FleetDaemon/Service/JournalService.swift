import FleetCore
import Foundation
import Logging
import ServiceLifecycle

/// Publishes every new journal row to the live streams as soon as the file changes (whichever
/// process wrote it), and prunes past retention once an hour. Ends the streams at shutdown.
public struct JournalService: Service {
    let journal: DaemonJournal
    let broadcaster: EventBroadcaster
    let retention: JournalRetention
    let logger: Logger

    public init(journal: DaemonJournal, broadcaster: EventBroadcaster, retention: JournalRetention, logger: Logger) {
        self.journal = journal
        self.broadcaster = broadcaster
        self.retention = retention
        self.logger = logger
    }

    public func run() async throws {
        await journal.prune(retention, now: Date())
        let watch: JournalWatch
        do { watch = try JournalWatch(journalPath: journal.path) } catch {
            logger.error("\(error); `fleet events --follow` gets no live events")
            await broadcaster.finish()
            // Supervision goes on: this service waits for shutdown instead of ending the group.
            do { try await gracefulShutdown() } catch {}
            return
        }
        if watch.polling {
            logger.notice("no inotify instance left for this user (fs.inotify.max_user_instances): the journal is polled every \(FleetCore.FileWatch.pollInterval) for `fleet events --follow`")
        }
        let start = await journal.lastId()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await cancelWhenGracefulShutdown {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .seconds(3600))
                            await journal.prune(retention, now: Date())
                        }
                    }
                } catch {}
            }
            await cancelWhenGracefulShutdown {
                var last = start
                for await _ in watch.changes {
                    // A journal begun anew (the old one deleted) numbers its rows from 1 again.
                    if await journal.lastId() < last { last = 0 }
                    let rows: [JournalEvent]
                    // An unreadable journal was already reported by DaemonJournal; the next change retries.
                    do { rows = try await journal.events(EventFilter(afterId: last)) } catch { continue }
                    guard !rows.isEmpty else { continue }
                    last = rows.last?.id ?? last
                    await broadcaster.publish(rows)
                }
            }
            group.cancelAll()
        }
        watch.cancel()
        await broadcaster.finish()
    }
}
