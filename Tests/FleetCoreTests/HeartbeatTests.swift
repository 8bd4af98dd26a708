import Foundation
import Testing
@testable import FleetCore

@Suite("heartbeat protocol v1")
struct HeartbeatTests {
    @Test("serialize then parse gives the same heartbeat, unknown keys kept")
    func roundTrip() throws {
        let beat = Heartbeat(ts: Date(timeIntervalSince1970: 1_764_000_000.123), pid: 42, status: "busy", nonce: "abc",
                             ack: "m-1", extra: [("seq", "7")])
        let text = beat.serialized()
        #expect(text == "ts=2025-11-24T16:00:00.123Z\npid=42\nstatus=busy\nnonce=abc\nack=m-1\nseq=7\n")
        #expect(Heartbeat.parse(text) == beat)
    }

    @Test("the PRD's minimal file parses; no valid ts means no heartbeat")
    func minimal() {
        let beat = Heartbeat.parse("ts=2026-06-20T10:00:00Z\npid=7\nstatus=ok\n")
        #expect(beat?.pid == 7)
        #expect(beat?.status == "ok")
        #expect(Heartbeat.parse("pid=7\nstatus=ok\n") == nil)
        #expect(Heartbeat.parse("ts=yesterday\n") == nil)
        #expect(Heartbeat.parse("") == nil)
    }

    @Test("timestamps: fractions and +00:00 accepted, nonsense refused")
    func timestamps() {
        #expect(Timestamp.parse("2026-11-25T16:46:24Z")?.timeIntervalSince1970 == 1_795_625_184)
        #expect(Timestamp.parse("2026-11-25T16:46:24.5+00:00")?.timeIntervalSince1970 == 1_795_625_184.5)
        for bad in ["2026-13-01T00:00:00Z", "2026-11-25 16:46:24", "2026-11-25T16:46:24+02:00", "2026-11-25T16:46:2xZ"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
        let date = Date(timeIntervalSince1970: 1_795_625_184.25)
        #expect(Timestamp.parse(Timestamp.format(date)) == date)
    }

    @Test("a timestamp before 1970 formats as it parsed (found by the heartbeat fuzz target)")
    func beforeEpoch() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.999)) == "1969-12-31T23:59:59.001Z")
        let text = "0026-12-03T12:00:00.001Z"
        #expect(Timestamp.parse(text).map(Timestamp.format) == text)
    }

    @Test("health: healthy up to 3 intervals, stale after, unknown without a file")
    func health() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        func beat(age: Double) -> Heartbeat { Heartbeat(ts: now.addingTimeInterval(-age), pid: 1) }
        #expect(HeartbeatHealth.of(beat(age: 0), now: now, interval: 15) == .healthy)
        #expect(HeartbeatHealth.of(beat(age: 45), now: now, interval: 15) == .healthy)
        #expect(HeartbeatHealth.of(beat(age: 45.001), now: now, interval: 15) == .stale)
        #expect(HeartbeatHealth.of(nil, now: now, interval: 15) == .unknown)
    }

    @Test("health: a timestamp ahead of the clock by more than one interval is future, not healthy")
    func future() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        func beat(ahead: Double) -> Heartbeat { Heartbeat(ts: now.addingTimeInterval(ahead), pid: 1) }
        #expect(HeartbeatHealth.of(beat(ahead: 15), now: now, interval: 15) == .healthy, "one interval of skew is tolerated")
        #expect(HeartbeatHealth.of(beat(ahead: 15.001), now: now, interval: 15) == .future)
        #expect(HeartbeatHealth.of(beat(ahead: 86400 * 365), now: now, interval: 15) == .future)
        #expect(HeartbeatHealth.future.rawValue == "future")
    }

    @Test("the store writes atomically, leaves no temp files, and refuses line breaks in values")
    func store() throws {
        let dir = NSTemporaryDirectory() + "hb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileIO.makeDirectory(dir, mode: 0o700)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = HeartbeatStore(directory: dir)
        let beat = Heartbeat(ts: Date(timeIntervalSince1970: 1_800_000_000), pid: 9)
        try store.write(beat, for: "agent-1")
        #expect(store.read("agent-1") == beat)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["agent-1.hb"])
        #expect(throws: (any Error).self) { try store.write(Heartbeat(ts: Date(), pid: 1, status: "ok\nts=x"), for: "agent-1") }
        #expect(throws: (any Error).self) { try store.write(beat, for: "../escape") }
        #expect(store.read("agent-1") == beat, "a refused write changes nothing")
        try store.requestProbe("agent-1", nonce: "n1")
        #expect(store.pendingProbe("agent-1") == "n1")
        store.remove("agent-1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test("the responder answers a probe with its nonce, and the prober cleans up")
    func responderAnswersProbe() async throws {
        let dir = NSTemporaryDirectory() + "hb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileIO.makeDirectory(dir, mode: 0o700)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = HeartbeatStore(directory: dir)
        let responder = HeartbeatResponder(store: store, agent: "r", interval: .seconds(60))
        responder.start()
        defer { responder.stop() }
        let prober = Prober(store: store, agents: ["r"])
        try await prober.send(now: Date())
        let outcome = try #require(await prober.collect(timeout: .seconds(2))["r"])
        #expect(outcome.answered)
        // Designed for ~20 ms (the probe poll). Speed is measured by scripts/bench-ps, not here:
        // a loaded 2-core machine can delay any thread by hundreds of milliseconds.
        #expect(outcome.latencyMs != nil)
        #expect(store.read("r")?.nonce == outcome.nonce)
        #expect(store.pendingProbe("r") == nil, "the prober removes its request")
    }
}
