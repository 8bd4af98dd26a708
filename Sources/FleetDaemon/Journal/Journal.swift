import FleetCore
import Foundation
import GRDB

/// How much history the journal keeps: rows older than `maxAge` and all but the newest `maxRows` go.
public struct JournalRetention: Sendable, Equatable {
    public var maxAge: Duration
    public var maxRows: Int

    public init(maxAge: Duration = .seconds(30 * 86_400), maxRows: Int = 100_000) {
        self.maxAge = maxAge
        self.maxRows = maxRows
    }

    public static let `default` = JournalRetention()
}

/// Why the journal could not be used; the message names the file and the fix.
public enum JournalError: Error, Equatable, CustomStringConvertible {
    case readOnly(path: String, reason: String)
    case deleted(path: String)
    case corrupt(path: String, movedTo: String)
    case unavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case .readOnly(let path, let reason):
            return "the journal \(path) cannot be written (\(reason)); make it writable (chmod u+w) or move it away"
        case .deleted(let path):
            return "the journal \(path) was deleted while open"
        case .corrupt(let path, let movedTo):
            return "the journal \(path) was not a readable database; moved aside to \(movedTo)"
        case .unavailable(let path, let reason):
            return "the journal \(path) cannot be opened: \(reason)"
        }
    }
}

/// What `fleet events` and the API ask of the journal.
public struct EventFilter: Sendable, Equatable {
    public var since: Date?
    /// Only rows with a larger id (a follower resuming after the last row it saw).
    public var afterId: Int64?
    public var agent: String?
    public var kind: EventKind?
    /// The newest `limit` rows (still printed oldest first).
    public var limit: Int?

    public init(since: Date? = nil, afterId: Int64? = nil, agent: String? = nil, kind: EventKind? = nil, limit: Int? = nil) {
        self.since = since
        self.afterId = afterId
        self.agent = agent
        self.kind = kind
        self.limit = limit
    }

    public func matches(_ event: JournalEvent) -> Bool {
        if let since, event.ts < since { return false }
        if let afterId, let id = event.id, id <= afterId { return false }
        if let agent, event.agent != agent { return false }
        if let kind, event.kind != kind { return false }
        return true
    }
}

/// The SQLite event journal (`<home>/fleet/journal.sqlite`): WAL, so the daemon and CLI verbs write
/// at once (each waits for the other's transaction up to the busy timeout), and a crash of either
/// loses nothing already committed.
public final class Journal: Sendable {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating and migrating) the journal. A file that is not a database is moved aside to
    /// `<path>.corrupt-<ts>` and a new journal is begun whose first row says so: never silently
    /// (`movedAside` names the old file, for the caller to report).
    public static func connect(path: String, busyTimeout: Duration = .seconds(5), now: Date = Date(),
                            tenant: String, host: String) throws -> (journal: Journal, movedAside: String?) {
        do {
            return (try Journal(path: path, busyTimeout: busyTimeout), nil)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            let moved = try moveAside(path, now: now)
            let journal = try Journal(path: path, busyTimeout: busyTimeout)
            let event = JournalEvent(ts: now, tenant_id: tenant, host: host, kind: .journalCorrupt,
                                     detail: EventDetail(path: moved, message: "\(error.resultCode): \(error.message ?? "")"),
                                     actor: nil)
            _ = try journal.appendSync([event])
            return (journal, moved)
        }
    }

    init(path: String, busyTimeout: Duration) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(Double(busyTimeout.components.seconds) + Double(busyTimeout.components.attoseconds) / 1e18)
        config.label = "journal"
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // A damaged page is only found by reading it: check once at open, cheap at 100k rows.
            let check = try pool.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
            if check != "ok" {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "quick_check: \(check ?? "no answer")")
            }
            try Self.migrator.migrate(pool)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY || error.resultCode == .SQLITE_CANTOPEN
            || error.resultCode == .SQLITE_PERM {
            throw JournalError.readOnly(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("id")
                // Milliseconds since the epoch, UTC: ordered and compared as integers.
                t.column("ts", .integer).notNull()
                t.column("tenant_id", .text).notNull()
                t.column("host", .text).notNull()
                t.column("agent", .text)
                t.column("kind", .text).notNull()
                t.column("detail", .text).notNull()
                t.column("actor", .text)
            }
            try db.create(index: "events_ts", on: "events", columns: ["ts"])
            try db.create(index: "events_agent", on: "events", columns: ["agent", "id"])
            try db.create(index: "events_kind", on: "events", columns: ["kind", "id"])
        }
        return migrator
    }

    static func moveAside(_ path: String, now: Date) throws -> String {
        let stamp = Timestamp.format(now).replacingOccurrences(of: ":", with: "")
        let target = "\(path).corrupt-\(stamp)"
        // The journal is this host's own file, opened by SQLite itself: the daemon runs on the host it keeps.
        let host = LocalHost()
        do { try host.moveFile(path, to: target) } catch {
            throw JournalError.unavailable(path: path, reason: "cannot move the damaged file aside: \(error)")
        }
        // The WAL and shared-memory files belong to the damaged database, not to a new one.
        for suffix in ["-wal", "-shm"] where host.fileExists(path + suffix) {
            try? host.moveFile(path + suffix, to: target + suffix)
        }
        return target
    }

    /// Writes the events in one transaction; returns them with their ids.
    public func append(_ events: [JournalEvent]) async throws -> [JournalEvent] {
        do {
            return try await pool.write { db in try Self.insert(events, db) }
        } catch let error as DatabaseError {
            throw classify(error)
        }
    }

    func appendSync(_ events: [JournalEvent]) throws -> [JournalEvent] {
        do {
            return try pool.write { db in try Self.insert(events, db) }
        } catch let error as DatabaseError {
            throw classify(error)
        }
    }

    func classify(_ error: DatabaseError) -> any Error {
        if error.extendedResultCode == .SQLITE_READONLY_DBMOVED || !LocalHost().fileExists(path) {
            return JournalError.deleted(path: path)
        }
        if error.resultCode == .SQLITE_READONLY || error.resultCode == .SQLITE_PERM || error.resultCode == .SQLITE_CANTOPEN {
            return JournalError.readOnly(path: path, reason: error.message ?? "\(error.resultCode)")
        }
        return error
    }

    static func insert(_ events: [JournalEvent], _ db: Database) throws -> [JournalEvent] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var written: [JournalEvent] = []
        for var event in events {
            let detail = String(decoding: try encoder.encode(event.detail), as: UTF8.self)
            try db.execute(
                sql: "INSERT INTO events (ts, tenant_id, host, agent, kind, detail, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [Self.millis(event.ts), event.tenant_id, event.host, event.agent, event.kind.rawValue, detail, event.actor])
            event.id = db.lastInsertedRowID
            written.append(event)
        }
        return written
    }

    /// The events matching `filter`, oldest first.
    public func events(_ filter: EventFilter) async throws -> [JournalEvent] {
        try await pool.read { db in try Self.select(filter, db) }
    }

    public func eventsSync(_ filter: EventFilter) throws -> [JournalEvent] {
        try pool.read { db in try Self.select(filter, db) }
    }

    static func select(_ filter: EventFilter, _ db: Database) throws -> [JournalEvent] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let since = filter.since { clauses.append("ts >= ?"); arguments += [millis(since)] }
        if let after = filter.afterId { clauses.append("id > ?"); arguments += [after] }
        if let agent = filter.agent { clauses.append("agent = ?"); arguments += [agent] }
        if let kind = filter.kind { clauses.append("kind = ?"); arguments += [kind.rawValue] }
        let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        var sql = "SELECT id, ts, tenant_id, host, agent, kind, detail, actor FROM events\(whereSQL) ORDER BY id"
        if let limit = filter.limit {
            sql = "SELECT * FROM (SELECT id, ts, tenant_id, host, agent, kind, detail, actor FROM events\(whereSQL) ORDER BY id DESC LIMIT \(max(0, limit))) ORDER BY id"
        }
        let decoder = JSONDecoder()
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let detailText: String = row["detail"]
            return JournalEvent(
                id: row["id"], ts: Date(timeIntervalSince1970: Double(row["ts"] as Int64) / 1000),
                tenant_id: row["tenant_id"], host: row["host"], agent: row["agent"],
                kind: EventKind(rawValue: row["kind"]),
                // A detail written by a newer mosaic with fields this one does not know still decodes.
                detail: (try? decoder.decode(EventDetail.self, from: Data(detailText.utf8))) ?? EventDetail(message: detailText),
                actor: row["actor"])
        }
    }

    /// The id of the newest row (0 when empty).
    public func lastId() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM events") ?? 0 }
    }

    /// Deletes what `retention` no longer keeps; returns the number of rows removed.
    @discardableResult
    public func prune(_ retention: JournalRetention, now: Date) async throws -> Int {
        let cutoff = Self.millis(now) - Int64(retention.maxAge.components.seconds) * 1000
        do {
            return try await pool.write { db in
                try db.execute(sql: "DELETE FROM events WHERE ts < ?", arguments: [cutoff])
                var removed = db.changesCount
                if let newest = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM events") {
                    try db.execute(sql: "DELETE FROM events WHERE id <= ?", arguments: [newest - Int64(retention.maxRows)])
                    removed += db.changesCount
                }
                return removed
            }
        } catch let error as DatabaseError {
            throw classify(error)
        }
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}
