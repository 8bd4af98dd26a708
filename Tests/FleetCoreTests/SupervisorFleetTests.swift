import Foundation
import Testing
@testable import FleetCore

@Suite("supervisor: pacing, mass death, recovery")
struct SupervisorFleetTests {
    static let names = (1...10).map { "a\($0)" }

    @Test("at most K starts in flight; the next when one is healthy or has failed")
    func pacing() {
        var lifecycle = Lifecycle()
        lifecycle.crashLoop = .init(restarts: 1, window: .seconds(600))
        var s = Supervisor.fleet(Self.names, lifecycle: lifecycle)
        #expect(s.see([:], at(0)).starts == ["a1", "a2", "a3", "a4"])
        var panes: [String: PaneObservation] = ["a1": .running, "a2": .running, "a3": .running, "a4": .running]
        #expect(s.see(panes, health: ["a1": .unknown, "a2": .unknown, "a3": .unknown, "a4": .unknown], at(1)).starts.isEmpty)
        #expect(s.see(panes, health: ["a3": .unknown, "a4": .unknown], at(2)).starts == ["a5", "a6"], "two healthy: two more")
        #expect(s.startsInFlight == 4)
        panes["a5"] = .running
        panes["a6"] = .running
        // a3 crash-loops into failed: its slot goes to the next.
        panes["a3"] = crashed
        let d = s.see(panes, health: ["a4": .unknown, "a5": .unknown, "a6": .unknown], at(3))
        #expect(d.restarts == ["a3"], "its own restart takes the slot it freed")
        let e = s.see(panes, health: ["a4": .unknown, "a5": .unknown, "a6": .unknown], at(4))
        #expect(e.kinds.contains(.failed) && e.starts == ["a7"])
        #expect(s.startsInFlight == 4)
    }

    @Test("server gone: one mass-death event, no start until it is back, then paced; no backoff, no crash-loop count")
    func serverGone() {
        var s = Supervisor.fleet(Self.names)
        let all = Dictionary(uniqueKeysWithValues: Self.names.map { ($0, PaneObservation.running) })
        _ = s.see(all, at(0))
        let d = s.see([:], server: false, at(1))
        #expect(d.events.filter { $0.kind == .massDeath } == [.massDeath(cause: .serverGone, dead: 10, fleet: 10)])
        #expect(d.starts.isEmpty && d.restarts.isEmpty)
        #expect(!d.kinds.contains(.backoff))
        #expect(s.recoveryProgress! == (0, 10))
        #expect(s.see([:], server: false, at(2)).isEmpty)
        var up: [String: PaneObservation] = [:]
        var started: [String] = []
        var t = 3.0
        while started.count < 10 {
            let r = s.see(up, at(t))
            #expect(r.restarts.count <= 4)
            #expect(!r.kinds.contains(.massDeath), "one event per mass death")
            started += r.restarts
            for name in r.restarts { up[name] = .running }
            t += 1
        }
        let progress = s.recoveryProgress
        #expect(progress == nil || progress!.done < 10)
        let last = s.see(up, at(t))
        #expect(last.events.contains(.recoveryComplete(total: 10)))
        #expect(s.recoveryProgress == nil)
        #expect(Self.names.allSatisfy { s.restarts(of: $0, now: at(t)) == 0 })
    }

    @Test("the same signal everywhere is named as the cause; below the threshold there is no mass death")
    func sameSignal() {
        var s = Supervisor.fleet(Self.names)
        var panes = Dictionary(uniqueKeysWithValues: Self.names.map { ($0, PaneObservation.running) })
        _ = s.see(panes, at(0))
        for name in ["a1", "a2", "a3", "a4"] { panes[name] = .dead(AgentExit(signal: 9)) }
        #expect(!s.see(panes, at(1)).kinds.contains(.massDeath), "4 of 10 is below half")
        panes["a5"] = .dead(AgentExit(signal: 9))
        let d = s.see(panes, at(2))
        #expect(d.events.contains(.massDeath(cause: .sameSignal(9), dead: 5, fleet: 10)))
        #expect(s.recoveryProgress?.total == 5)
    }

    @Test("deaths spread wider than the window, or fewer than minAgents, are no mass death")
    func spread() {
        var s = Supervisor.fleet(["a", "b", "c", "d"])
        var panes: [String: PaneObservation] = ["a": .running, "b": .running, "c": .running, "d": .running]
        _ = s.see(panes, at(0))
        for (i, name) in ["a", "b", "c"].enumerated() {
            panes[name] = .dead(AgentExit(status: 1))
            #expect(!s.see(panes, at(Double(i) * 11 + 1)).kinds.contains(.massDeath))
        }
        var small = Supervisor.fleet(["x", "y"])
        _ = small.see(["x": .running, "y": .running], at(0))
        #expect(!small.see([:], at(1)).kinds.contains(.massDeath), "2 agents: below minAgents 3")
    }

    @Test("found dead at the daemon's start: the mass death names the daemon's restart")
    func daemonRestart() {
        var s = Supervisor.fleet(["a", "b", "c"])
        let d = s.see(["a": .dead(AgentExit(status: 1)), "b": .dead(AgentExit(signal: 15)), "c": .dead(AgentExit(status: 2))], at(0))
        #expect(d.events.contains(.massDeath(cause: .daemonRestart, dead: 3, fleet: 3)))
        #expect(d.restarts.count == 3)
    }
}

@Suite("supervisor observations from the fleet snapshot")
struct ObservationTests {
    @Test("a snapshot's rows become panes (running, dead with status and last line, absent) and health")
    func fromSnapshot() throws {
        let now = at(0)
        let roster = Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 10, agents: [
            AgentSpec(name: "ok", runtime: .stub), AgentSpec(name: "stale", runtime: .stub),
            AgentSpec(name: "crashed", runtime: .stub), AgentSpec(name: "gone", runtime: .stub), AgentSpec(name: "new", runtime: .stub),
        ])
        func pane(_ s: String, _ pid: Int32, dead: Bool = false, status: Int32? = nil) -> PaneInfo {
            PaneInfo(sessionName: s, paneId: "%\(pid)", pid: pid, dead: dead, deadStatus: status, windowActivity: 1_800_000_000, currentCommand: "mosaic")
        }
        let readings = PlaneReadings(
            panes: [pane("_holder", 1), pane("ok", 10), pane("stale", 11), pane("new", 13), pane("crashed", 12, dead: true, status: 3)],
            units: nil, enabledUnits: nil, linger: nil,
            processes: [10: ProcessSample(pid: 10, comm: "mosaic", state: "S"), 11: ProcessSample(pid: 11, comm: "mosaic", state: "S"),
                        13: ProcessSample(pid: 13, comm: "mosaic", state: "S")],
            heartbeats: ["ok": Heartbeat(ts: now.addingTimeInterval(-1), pid: 10), "stale": Heartbeat(ts: now.addingTimeInterval(-60), pid: 11)],
            lastOutput: ["crashed": ["starting", "error: no API key"]])
        let observation = FleetObservation(snapshot: FleetSnapshot.join(roster: roster, readings: readings, now: now))
        #expect(observation.serverRunning)
        let byName = Dictionary(uniqueKeysWithValues: observation.agents.map { ($0.name, $0) })
        #expect(byName["ok"] == AgentObservation(name: "ok", pane: .running, health: .healthy))
        #expect(byName["stale"]?.health == .hung(.heartbeatStale))
        #expect(byName["new"] == AgentObservation(name: "new", pane: .running, health: .unknown))
        #expect(byName["crashed"]?.pane == .dead(AgentExit(status: 3, lastOutputLine: "error: no API key")))
        #expect(byName["gone"]?.pane == .absent)
    }
}
