import Foundation
import Testing
@testable import FleetCore
@testable import FleetDaemon
import Logging

/// A fresh directory per test, removed afterwards.
final class TempDir: Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "mosaic-daemon-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit {
        chmod(path, 0o700)
        try? FileManager.default.removeItem(atPath: path)
    }
}

func event(_ kind: EventKind, agent: String? = "scout", at ts: Date = Date(), detail: EventDetail = EventDetail()) -> JournalEvent {
    JournalEvent(ts: ts, tenant_id: "t", host: "h", agent: agent, kind: kind, detail: detail, actor: "tester")
}

@Suite("the event journal")
struct JournalTests {
    @Test("rows written come back in order with ids, every field intact, filtered by agent, kind and time")
    func roundTrip() async throws {
        let dir = try TempDir()
        let (journal, moved) = try Journal.connect(path: dir.path + "/journal.sqlite", tenant: "t", host: "h")
        #expect(moved == nil)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let written = try await journal.append([
            event(.agentStarted, at: t0, detail: EventDetail(pid: 42)),
            event(.agentExited, at: t0.addingTimeInterval(60), detail: EventDetail(status: 1, lastOutput: "boom")),
            event(.stateChanged, agent: "other", at: t0.addingTimeInterval(120), detail: EventDetail(from: "ok", to: "busy")),
        ])
        #expect(written.map(\.id) == [1, 2, 3])
        let all = try await journal.events(EventFilter())
        #expect(all == written)
        #expect(try await journal.events(EventFilter(agent: "scout")).map(\.kind) == [.agentStarted, .agentExited])
        #expect(try await journal.events(EventFilter(kind: .stateChanged)).first?.detail.to == "busy")
        #expect(try await journal.events(EventFilter(since: t0.addingTimeInterval(30))).count == 2)
        #expect(try await journal.events(EventFilter(afterId: 2)).map(\.id) == [3])
        #expect(try await journal.events(EventFilter(limit: 2)).map(\.id) == [2, 3])
    }

    @Test("the JSON line of an event has every key, null where unknown, and decodes back to the same event")
    func jsonLine() throws {
        var e = event(.agentVanished, agent: nil, at: Date(timeIntervalSince1970: 1_800_000_000.5))
        e.id = 7
        let line = e.jsonLine()
        #expect(line.contains("\"agent\":null") && line.contains("\"ts\":\"2027-01-15T08:00:00.500Z\""))
        #expect(try JournalEvent.decode(jsonLine: Data(line.utf8)) == e)
    }

    @Test("the journal is in WAL mode and a second connection (another process's CLI verb) writes while the first holds it open")
    func concurrentWriters() async throws {
        let dir = try TempDir()
        let path = dir.path + "/journal.sqlite"
        let (a, _) = try Journal.connect(path: path, tenant: "t", host: "h")
        let (b, _) = try Journal.connect(path: path, tenant: "t", host: "h")
        let mode = try await a.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask { _ = try? await (i % 2 == 0 ? a : b).append([event(.stateChanged)]) }
            }
        }
        #expect(try await a.events(EventFilter()).count == 50)
        #expect(Set(try await b.events(EventFilter()).compactMap(\.id)).count == 50)
    }

    @Test("retention removes rows older than the age and all but the newest rows")
    func retention() async throws {
        let dir = try TempDir()
        let (journal, _) = try Journal.connect(path: dir.path + "/journal.sqlite", tenant: "t", host: "h")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try await journal.append((0..<10).map { i in event(.stateChanged, at: now.addingTimeInterval(-Double(i) * 86_400)) })
        let removed = try await journal.prune(JournalRetention(maxAge: .seconds(5 * 86_400), maxRows: 1000), now: now)
        #expect(removed == 4)
        #expect(try await journal.events(EventFilter()).count == 6)
        _ = try await journal.prune(JournalRetention(maxAge: .seconds(30 * 86_400), maxRows: 2), now: now)
        #expect(try await journal.events(EventFilter()).map(\.id) == [5, 6])
    }

    @Test("a file that is not a database is moved aside, and the new journal's first row says where")
    func corrupt() async throws {
        let dir = try TempDir()
        let path = dir.path + "/journal.sqlite"
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        let (journal, moved) = try Journal.connect(path: path, now: Date(timeIntervalSince1970: 1_800_000_000), tenant: "t", host: "h")
        let aside = try #require(moved)
        #expect(aside.hasPrefix(path + ".corrupt-2027-01-15T080000"))
        #expect(FileManager.default.contents(atPath: aside) == Data(repeating: 0x41, count: 8192))
        let rows = try await journal.events(EventFilter())
        #expect(rows.map(\.kind) == [.journalCorrupt])
        #expect(rows.first?.detail.path == aside)
    }

    @Test("a damaged page in a real journal is found at open and the file moved aside, never silently recreated")
    func damagedPage() async throws {
        let dir = try TempDir()
        let path = dir.path + "/journal.sqlite"
        do {
            let (journal, _) = try Journal.connect(path: path, tenant: "t", host: "h")
            _ = try await journal.append((0..<500).map { _ in event(.stateChanged, detail: EventDetail(message: String(repeating: "x", count: 200))) })
            _ = try await journal.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        }
        // Scribble over the middle of the file (past the header page).
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: 8192)
        handle.write(Data(repeating: 0xFF, count: 16384))
        try handle.close()
        let (journal, moved) = try Journal.connect(path: path, tenant: "t", host: "h")
        #expect(moved != nil)
        #expect(try await journal.events(EventFilter()).map(\.kind) == [.journalCorrupt])
    }

    @Test("a journal that cannot be written: events are dropped and counted, and the daemon goes on")
    func readOnly() async throws {
        guard getuid() != 0 else {
            // root writes read-only files; the read-only case is shown with a read-only directory below.
            return try await readOnlyDirectory()
        }
        let dir = try TempDir()
        let path = dir.path + "/journal.sqlite"
        _ = try Journal.connect(path: path, tenant: "t", host: "h")
        chmod(path, 0o400)
        let journal = DaemonJournal(path: path, tenant: "t", host: "h", logger: Logger(label: "test"))
        await journal.connect()
        #expect(await journal.record([event(.stateChanged)]).isEmpty)
        #expect(await journal.droppedEvents == 1)
        chmod(path, 0o600)
    }

    func readOnlyDirectory() async throws {
        // As root, permissions do not stop writes: an unwritable place is a journal under a file.
        let dir = try TempDir()
        let blocker = dir.path + "/not-a-directory"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data()))
        let journal = DaemonJournal(path: blocker + "/journal.sqlite", tenant: "t", host: "h", logger: Logger(label: "test"))
        await journal.connect()
        #expect(await journal.isAvailable == false)
        #expect(await journal.record([event(.stateChanged)]).isEmpty)
        #expect(await journal.droppedEvents == 1)
    }

    @Test("the journal deleted under the daemon: a new one is started whose first row says so, and the event is kept")
    func deleted() async throws {
        let dir = try TempDir()
        let path = dir.path + "/journal.sqlite"
        let journal = DaemonJournal(path: path, tenant: "t", host: "h", logger: Logger(label: "test"))
        await journal.connect()
        #expect(await journal.record([event(.agentStarted)]).count == 1)
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        let written = await journal.record([event(.agentExited)])
        #expect(written.map(\.kind) == [.agentExited])
        let rows = try await journal.events(EventFilter())
        #expect(rows.map(\.kind) == [.journalRecreated, .agentExited])
    }
}
