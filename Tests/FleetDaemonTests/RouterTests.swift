import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import FleetCore
@testable import FleetDaemon

struct FixedFleet: FleetSource {
    let value: FleetSnapshot
    func snapshot() async throws -> FleetSnapshot { value }
}

func sampleSnapshot(now: Date) -> FleetSnapshot {
    let roster = Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 10, agents: [AgentSpec(name: "scout", runtime: .stub)])
    let readings = PlaneReadings(
        panes: [PaneInfo(sessionName: "scout", paneId: "%1", pid: 10, windowActivity: Int(now.timeIntervalSince1970), currentCommand: "mosaic")],
        units: nil, enabledUnits: nil, linger: nil,
        processes: [10: ProcessSample(pid: 10, comm: "mosaic", state: "S")],
        heartbeats: ["scout": Heartbeat(ts: now, pid: 10, status: "busy")])
    return FleetSnapshot.join(roster: roster, readings: readings, now: now)
}

@Suite("the daemon's HTTP routes")
struct RouterTests {
    func api(_ dir: TempDir) async -> DaemonAPI {
        let journal = DaemonJournal(path: dir.path + "/journal.sqlite", tenant: "t", host: "h", logger: Logger(label: "test"))
        await journal.connect()
        let now = Date()
        return DaemonAPI(
            status: { DaemonStatus(pid: 4242, started: "2026-12-03T12:00:00.000Z", version: "0.1.0", home: dir.path,
                                   agentsAdopted: 1, journal: dir.path + "/journal.sqlite", journalAvailable: true, supervisorTicks: 3) },
            fleet: FixedFleet(value: sampleSnapshot(now: now)), journal: journal, broadcaster: EventBroadcaster())
    }

    @Test("GET /api/v1/status answers the daemon's pid, start, version and the agents it adopted")
    func status() async throws {
        let dir = try TempDir()
        let app = Application(router: buildRouter(await api(dir)))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                let status = try JSONDecoder().decode(DaemonStatus.self, from: Data(buffer: response.body))
                #expect(status.pid == 4242 && status.agentsAdopted == 1 && status.version == "0.1.0")
            }
        }
    }

    @Test("GET /api/v1/fleet is the fleet ps --json document")
    func fleet() async throws {
        let dir = try TempDir()
        let api = await api(dir)
        let expected = try SnapshotRenderer.json(try await api.fleet.snapshot()).rendered() + "\n"
        let app = Application(router: buildRouter(api))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/fleet", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == expected)
                let rows = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]])
                #expect(rows.first?["name"] as? String == "scout")
            }
        }
    }

    @Test("GET /api/v1/events filters by agent and kind, as an array or JSON lines; a bad since is a 400 that says why")
    func events() async throws {
        let dir = try TempDir()
        let api = await api(dir)
        await api.journal.record([event(.agentStarted), event(.agentExited, detail: EventDetail(status: 3)),
                                  event(.stateChanged, agent: "other")])
        let app = Application(router: buildRouter(api))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/events?agent=scout&kind=agent-exited", method: .get) { response in
                #expect(response.status == .ok)
                let rows = try JSONDecoder().decode([JournalEvent].self, from: Data(buffer: response.body))
                #expect(rows.map(\.kind) == [.agentExited] && rows.first?.detail.status == 3)
            }
            try await client.execute(uri: "/api/v1/events?format=jsonl&since=1h", method: .get) { response in
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.count == 3)
                let ids = try lines.map { try JournalEvent.decode(jsonLine: Data($0.utf8)).id }
                #expect(ids == [1, 2, 3])
            }
            try await client.execute(uri: "/api/v1/events?since=yesterday", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("since=yesterday"))
            }
        }
    }

    @Test("GET /api/v1/events/stream sends the rows after `after` as Server-Sent Events, then what is published")
    func stream() async throws {
        let dir = try TempDir()
        let api = await api(dir)
        let written = await api.journal.record([event(.agentStarted), event(.agentExited), event(.stateChanged)])
        let app = Application(router: buildRouter(api))
        try await app.test(.router) { client in
            // Publish one more row once the stream has subscribed, then end the streams (the daemon's shutdown).
            let publisher = Task {
                await api.broadcaster.untilSubscribed()
                let late = await api.journal.record([event(.agentVanished)])
                await api.broadcaster.publish(written + late)
                await api.broadcaster.finish()
            }
            try await client.execute(uri: "/api/v1/events/stream?after=1", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                let body = String(buffer: response.body)
                let ids = body.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
                // Rows 2 and 3 from the backlog, 4 live; 2 and 3 published again are not repeated.
                #expect(ids == ["2", "3", "4"])
                let data = body.split(separator: "\n").filter { $0.hasPrefix("data: ") }
                let last = try JournalEvent.decode(jsonLine: Data(try #require(data.last).dropFirst(6).utf8))
                #expect(last.kind == .agentVanished)
            }
            await publisher.value
        }
    }
}
