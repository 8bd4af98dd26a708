import Foundation
import Testing
@testable import FleetCore

/// A fleet that shows every kind of row `fleet ps` knows, joined from fixed readings: the
/// `ps --json` fixtures were captured from this fleet with the renderer that wrote each key by
/// hand, before the document became one Codable type.
enum SampleFleet {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let epoch = 1_800_000_000

    static var roster: Roster {
        var roster = Roster(tenant: "jarvis", host: "w-jarvis", heartbeatIntervalSeconds: 10, agents: [
            AgentSpec(name: "coder", runtime: .stub, role: "coder", model: "m-1", effort: "high"),
            AgentSpec(name: "canary-pi", runtime: .pi, command: "mosaic agent stub"),
            AgentSpec(name: "gone", runtime: .stub),
            AgentSpec(name: "crashed", runtime: .claude),
            AgentSpec(name: "killed", runtime: .codex),
            AgentSpec(name: "wrapped", runtime: .aider),
            AgentSpec(name: "shell", runtime: .claude),
            AgentSpec(name: "approver", runtime: .codex),
            AgentSpec(name: "hung", runtime: .claude),
            AgentSpec(name: "deaf", runtime: .stub),
            AgentSpec(name: "drifter", runtime: .pi),
        ])
        roster.silentBusySeconds = 120
        return roster
    }

    static func pane(_ session: String, pid: Int32, command: String, dead: Bool = false, status: Int32? = nil, signal: Int32? = nil,
                     quietFor: Int = 30) -> PaneInfo {
        PaneInfo(sessionName: session, paneId: "%\(pid)", pid: pid, dead: dead, deadStatus: status, deadSignal: signal,
                 windowActivity: epoch - quietFor, currentCommand: command)
    }

    static var readings: PlaneReadings {
        PlaneReadings(
            panes: [pane("_holder", pid: 1, command: "sleep"), pane("coder", pid: 10, command: "mosaic"),
                    pane("canary-pi", pid: 11, command: "mosaic"),
                    pane("crashed", pid: 12, command: "node", dead: true, status: 1),
                    pane("killed", pid: 13, command: "node", dead: true, signal: 9),
                    pane("wrapped", pid: 14, command: "sh"), pane("shell", pid: 15, command: "bash"),
                    pane("approver", pid: 16, command: "node", quietFor: 3600), pane("hung", pid: 17, command: "claude", quietFor: 121),
                    pane("deaf", pid: 18, command: "mosaic", quietFor: 0),
                    pane("drifter", pid: 21, command: "mosaic"),
                    pane("visitor", pid: 19, command: "bash"), pane("ghost", pid: 20, command: "vim", dead: true, status: 0)],
            units: [UnitState(name: "mosaic-agent@coder.service", load: "loaded", active: "active", sub: "exited"),
                    UnitState(name: "mosaic-agent@canary-pi.service", load: "loaded", active: "active", sub: "exited"),
                    UnitState(name: "mosaic-agent@crashed.service", load: "loaded", active: "failed", sub: "failed")],
            enabledUnits: ["mosaic-agent@coder.service", "mosaic-agent@crashed.service"], linger: true,
            processes: [10: ProcessSample(pid: 10, comm: "mosaic", state: "S"), 11: ProcessSample(pid: 11, comm: "mosaic", state: "S"),
                        14: ProcessSample(pid: 14, comm: "sh", state: "S", descendants: [ProcessNode(pid: 41, ppid: 14, comm: "aider", state: "T")]),
                        15: ProcessSample(pid: 15, comm: "bash", state: "S"),
                        16: ProcessSample(pid: 16, comm: "node", state: "S", descendants: [ProcessNode(pid: 61, ppid: 16, comm: "codex", state: "S")]),
                        17: ProcessSample(pid: 17, comm: "claude", state: "R"), 18: ProcessSample(pid: 18, comm: "mosaic", state: "S"),
                        21: ProcessSample(pid: 21, comm: "mosaic", state: "S")],
            heartbeats: ["coder": Heartbeat(ts: now.addingTimeInterval(-5), pid: 10, status: "busy"),
                         "canary-pi": Heartbeat(ts: now.addingTimeInterval(-31), pid: 11),
                         "crashed": Heartbeat(ts: now.addingTimeInterval(-600.25), pid: 12, status: "busy"),
                         "wrapped": Heartbeat(ts: now.addingTimeInterval(-45), pid: 14),
                         "shell": Heartbeat(ts: now.addingTimeInterval(-100), pid: 15, status: "busy"),
                         "approver": Heartbeat(ts: now.addingTimeInterval(-1), pid: 16, status: "waiting", nonce: "n-approver",
                                               extra: [("waiting", "approval")]),
                         "hung": Heartbeat(ts: now.addingTimeInterval(-2), pid: 17, status: "busy"),
                         "deaf": Heartbeat(ts: now.addingTimeInterval(-3), pid: 18),
                         "drifter": Heartbeat(ts: now.addingTimeInterval(-4), pid: 21)],
            lastOutput: ["crashed": ["Starting…", "Error: the API key \"sk-…\" was refused\t(401)"],
                         "killed": ["panic: out of memory"]],
            probes: ["coder": ProbeOutcome(nonce: "n-coder", answered: true, latencyMs: 12),
                     "approver": ProbeOutcome(nonce: "n-approver", answered: true, latencyMs: 250),
                     "deaf": ProbeOutcome(nonce: "n-deaf", answered: false, latencyMs: nil)])
    }

    /// The same fleet with no tmux server and no systemd: every field that needs them is null.
    static var nothingRunning: PlaneReadings {
        var r = readings
        r.panes = nil
        r.units = nil
        r.enabledUnits = nil
        r.linger = nil
        r.processes = [:]
        r.lastOutput = [:]
        r.probes = nil
        return r
    }

    static var snapshot: FleetSnapshot { FleetSnapshot.join(roster: roster, readings: readings, now: now) }

    static func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ps-json/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }
}

@Suite("the fleet ps --json document")
struct PSDocumentTests {
    @Test("ps --json is byte for byte what the hand-written renderer wrote (fixtures captured from it)",
          arguments: [("fleet.json", SampleFleet.readings), ("nothing-running.json", SampleFleet.nothingRunning)])
    func pinned(_ name: String, _ readings: PlaneReadings) throws {
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: SampleFleet.now)
        let text = SnapshotRenderer.json(snapshot).rendered() + "\n"
        #expect(text == (try SampleFleet.fixture(name)))
    }

    @Test("the table is what it was, colours included, for the same fleets",
          arguments: [("fleet.table", SampleFleet.readings), ("nothing-running.table", SampleFleet.nothingRunning)])
    func pinnedTable(_ name: String, _ readings: PlaneReadings) throws {
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: SampleFleet.now)
        #expect(SnapshotRenderer.table(snapshot, width: 200, color: true) == (try SampleFleet.fixture(name)))
    }
}

