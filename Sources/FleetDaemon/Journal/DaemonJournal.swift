import FleetCore
import Foundation
import Logging

/// The daemon's hold on the journal. Supervision never stops for the journal: a read-only or
/// deleted file is logged (once per change of trouble) and the daemon goes on; a deleted file is
/// replaced by a new journal whose first row says so.
public actor DaemonJournal {
    public let path: String
    let tenant: String
    let host: String
    let logger: Logger
    private var journal: Journal?
    /// The trouble last logged, so a read-only journal is reported once, not on every event.
    private var trouble: String?
    public private(set) var droppedEvents = 0

    public init(path: String, tenant: String, host: String, logger: Logger) {
        self.path = path
        self.tenant = tenant
        self.host = host
        self.logger = logger
    }

    /// Opens the journal now; a failure is logged and retried on the next write.
    public func connect(now: Date = Date()) {
        do {
            let (journal, moved) = try Journal.connect(path: path, now: now, tenant: tenant, host: host)
            self.journal = journal
            if let moved { logger.error("\(JournalError.corrupt(path: path, movedTo: moved)); a new journal was started") }
            report(nil)
        } catch {
            report("\(error)")
        }
    }

    public var isAvailable: Bool { journal != nil }

    /// Writes the events; never throws. Returns them with ids, or an empty array if they could not be written.
    @discardableResult
    public func record(_ events: [JournalEvent]) async -> [JournalEvent] {
        guard !events.isEmpty else { return [] }
        if journal == nil { connect() }
        guard let journal else { droppedEvents += events.count; return [] }
        do {
            // SQLite would go on writing into an unlinked file: a deleted journal is noticed here.
            guard LocalHost().fileExists(path) else { throw JournalError.deleted(path: path) }
            let written = try await journal.append(events)
            report(nil)
            return written
        } catch JournalError.deleted {
            logger.warning("the journal \(path) was deleted while the daemon ran; starting a new one")
            self.journal = nil
            connect()
            guard let fresh = self.journal else { droppedEvents += events.count; return [] }
            let notice = JournalEvent(ts: Date(), tenant_id: tenant, host: host, kind: .journalRecreated,
                                      detail: EventDetail(path: path, message: "the previous journal was deleted"), actor: "daemon")
            do { return Array(try await fresh.append([notice] + events).dropFirst()) } catch {
                report("\(error)")
                droppedEvents += events.count
                return []
            }
        } catch {
            report("\(error)")
            droppedEvents += events.count
            return []
        }
    }

    public func events(_ filter: EventFilter) async throws -> [JournalEvent] {
        if journal == nil { connect() }
        guard let journal else { throw JournalError.unavailable(path: path, reason: trouble ?? "not open") }
        return try await journal.events(filter)
    }

    public func lastId() async -> Int64 {
        guard let journal else { return 0 }
        do { return try await journal.lastId() } catch {
            report("\(error)")
            return 0
        }
    }

    public func prune(_ retention: JournalRetention, now: Date) async {
        guard let journal else { return }
        do {
            let removed = try await journal.prune(retention, now: now)
            if removed > 0 { logger.info("journal: \(removed) rows past retention removed") }
        } catch {
            report("\(error)")
        }
    }

    private func report(_ problem: String?) {
        guard problem != trouble else { return }
        if let problem {
            logger.error("\(problem); supervision goes on without the journal")
        } else if trouble != nil {
            logger.notice("the journal \(path) is writable again")
        }
        trouble = problem
    }
}
