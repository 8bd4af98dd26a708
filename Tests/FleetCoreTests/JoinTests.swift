import Foundation
import Testing
@testable import FleetCore

@Suite("the fleet ps join")
struct JoinTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let roster = Roster(tenant: "jarvis", host: "w-jarvis", heartbeatIntervalSeconds: 10, agents: [
        AgentSpec(name: "coder", runtime: .stub, role: "coder"),
        AgentSpec(name: "canary-pi", runtime: .pi, command: "mosaic agent stub"),
        AgentSpec(name: "gone", runtime: .stub),
        AgentSpec(name: "crashed", runtime: .claude),
    ])

    func pane(_ session: String, pid: Int32, command: String, dead: Bool = false, status: Int32? = nil) -> PaneInfo {
        PaneInfo(sessionName: session, paneId: "%\(pid)", pid: pid, dead: dead, deadStatus: status,
                 windowActivity: 1_800_000_000 - 30, currentCommand: command)
    }

    var readings: PlaneReadings {
        PlaneReadings(
            panes: [pane("_holder", pid: 1, command: "sleep"), pane("coder", pid: 10, command: "mosaic"),
                    pane("canary-pi", pid: 11, command: "mosaic"), pane("crashed", pid: 12, command: "node", dead: true, status: 1),
                    pane("visitor", pid: 13, command: "bash")],
            units: [UnitState(name: "mosaic-agent@coder.service", load: "loaded", active: "active", sub: "exited"),
                    UnitState(name: "mosaic-agent@canary-pi.service", load: "loaded", active: "active", sub: "exited")],
            enabledUnits: ["mosaic-agent@coder.service"], linger: true,
            processes: [10: ProcessSample(pid: 10, comm: "mosaic", state: "S"), 11: ProcessSample(pid: 11, comm: "mosaic", state: "S")],
            heartbeats: ["coder": Heartbeat(ts: now.addingTimeInterval(-5), pid: 10, status: "busy"),
                         "canary-pi": Heartbeat(ts: now.addingTimeInterval(-31), pid: 11)])
    }

    @Test("a live pane with a recent heartbeat is healthy; every row carries tenant and host")
    func healthy() throws {
        let snap = FleetSnapshot.join(roster: roster, readings: readings, now: now)
        let coder = try #require(snap.agents.first { $0.name == "coder" })
        #expect(coder.healthy)
        #expect(coder.tenant_id == "jarvis" && coder.host == "w-jarvis")
        #expect(coder.heartbeat.health == .healthy && coder.heartbeat.status == .busy && coder.heartbeat.ageMs == 5000)
        #expect(coder.idleSeconds == 30)
        #expect(coder.systemdActive == true && coder.systemdEnabled == true && coder.bootEnableWarning == false)
        #expect(coder.driftFlag == false)
        #expect(snap.agents.allSatisfy { $0.tenant_id == "jarvis" && $0.host == "w-jarvis" })
    }

    @Test("busy with a still screen: unhealthy for a runtime that animates while it works, not for one that does not, nor when waiting")
    func silentBusy() throws {
        var roster = Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 10, agents: [
            AgentSpec(name: "claude-hung", runtime: .claude), AgentSpec(name: "claude-moving", runtime: .claude),
            AgentSpec(name: "claude-waiting", runtime: .claude), AgentSpec(name: "aider-thinking", runtime: .aider),
        ])
        roster.silentBusySeconds = 120
        func pane(_ name: String, _ pid: Int32, quietFor: Int, command: String) -> PaneInfo {
            PaneInfo(sessionName: name, paneId: "%\(pid)", pid: pid, windowActivity: 1_800_000_000 - quietFor, currentCommand: command)
        }
        let readings = PlaneReadings(
            panes: [pane("claude-hung", 20, quietFor: 121, command: "claude"), pane("claude-moving", 21, quietFor: 0, command: "claude"),
                    pane("claude-waiting", 22, quietFor: 3600, command: "claude"), pane("aider-thinking", 23, quietFor: 600, command: "python3")],
            units: nil, enabledUnits: nil, linger: nil,
            processes: [20: ProcessSample(pid: 20, comm: "claude", state: "S"), 21: ProcessSample(pid: 21, comm: "claude", state: "S"),
                        22: ProcessSample(pid: 22, comm: "claude", state: "S"), 23: ProcessSample(pid: 23, comm: "aider", state: "S")],
            heartbeats: ["claude-hung": Heartbeat(ts: now.addingTimeInterval(-1), pid: 20, status: "busy"),
                         "claude-moving": Heartbeat(ts: now.addingTimeInterval(-1), pid: 21, status: "busy"),
                         "claude-waiting": Heartbeat(ts: now.addingTimeInterval(-1), pid: 22, status: "waiting", extra: [("waiting", "input")]),
                         "aider-thinking": Heartbeat(ts: now.addingTimeInterval(-1), pid: 23, status: "busy")])
        let rows = Dictionary(uniqueKeysWithValues: FleetSnapshot.join(roster: roster, readings: readings, now: now).agents.map { ($0.name, $0) })
        let hung = try #require(rows["claude-hung"])
        #expect(hung.silentBusy && !hung.healthy && hung.heartbeat.health == .healthy)
        #expect(hung.problems.map(\.sentence).contains("busy, but its screen has not changed for 2m: hung?"), "\(hung.problems)")
        for name in ["claude-moving", "claude-waiting", "aider-thinking"] {
            let row = try #require(rows[name])
            #expect(!row.silentBusy && row.healthy, "\(name): \(row.problems)")
        }
    }

    @Test("drift, boot-enable and a stale heartbeat on the canary")
    func canary() throws {
        let snap = FleetSnapshot.join(roster: roster, readings: readings, now: now)
        let canary = try #require(snap.agents.first { $0.name == "canary-pi" })
        #expect(canary.driftFlag == true)
        #expect(canary.bootEnableWarning == true, "active but not enabled")
        #expect(canary.heartbeat.health == .stale)
        #expect(!canary.healthy)
        #expect(canary.problems.map(\.sentence).contains("heartbeat stale"))
    }

    @Test("a pane alive is not health: a missing session and a dead pane are reported as such")
    func missingAndDead() throws {
        let snap = FleetSnapshot.join(roster: roster, readings: readings, now: now)
        let gone = try #require(snap.agents.first { $0.name == "gone" })
        #expect(gone.session == .missing && gone.paneAlive == nil && gone.panePid == nil)
        #expect(gone.heartbeat.health == .unknown)
        #expect(gone.systemdActive == false)
        let crashed = try #require(snap.agents.first { $0.name == "crashed" })
        #expect(crashed.session == .dead && crashed.paneAlive == false && crashed.paneExitStatus == 1)
        #expect(crashed.driftFlag == nil, "a dead pane runs nothing, so drift is unknown")
        #expect(!snap.allHealthy)
    }

    @Test("sessions the roster does not name are strays; the holder is not")
    func strays() {
        let snap = FleetSnapshot.join(roster: roster, readings: readings, now: now)
        #expect(snap.strays.map(\.name) == ["visitor"])
        #expect(snap.strays.first?.tenant_id == "jarvis")
    }

    @Test("no systemd: systemd fields are null, never invented; no tmux server: every agent says so")
    func planesMissing() {
        var r = readings
        r.units = nil
        r.enabledUnits = nil
        r.linger = nil
        r.panes = nil
        let snap = FleetSnapshot.join(roster: roster, readings: r, now: now)
        #expect(snap.agents.allSatisfy { $0.systemdActive == nil && $0.systemdEnabled == nil && $0.bootEnableWarning == nil })
        #expect(snap.agents.allSatisfy { $0.session == .noServer && $0.paneAlive == nil })
        #expect(!snap.systemdAvailable && !snap.tmuxServerRunning)
    }

    @Test("linger off makes an enabled, active agent a boot-enable warning")
    func lingerOff() throws {
        var r = readings
        r.linger = false
        let coder = try #require(FleetSnapshot.join(roster: roster, readings: r, now: now).agents.first)
        #expect(coder.bootEnableWarning == true)
        #expect(coder.problems.map(\.sentence).contains("linger off"))
    }

    @Test("a probe that went unanswered makes the agent unhealthy even with a fresh file")
    func unansweredProbe() throws {
        var r = readings
        r.probes = ["coder": ProbeOutcome(nonce: "n", answered: false, latencyMs: nil)]
        let coder = try #require(FleetSnapshot.join(roster: roster, readings: r, now: now).agents.first)
        #expect(coder.heartbeat.health == .healthy)
        #expect(!coder.healthy)
    }

    @Test("a stopped process is not healthy")
    func stopped() throws {
        var r = readings
        r.processes[10] = ProcessSample(pid: 10, comm: "mosaic", state: "T")
        let coder = try #require(FleetSnapshot.join(roster: roster, readings: r, now: now).agents.first)
        #expect(!coder.healthy)
        #expect(coder.problems.map(\.sentence).contains("process stopped"))
    }

    @Test("JSON: the contract's field names, null for missing knowledge, strays after agents")
    func json() throws {
        let snap = FleetSnapshot.join(roster: roster, readings: readings, now: now)
        let text = try SnapshotRenderer.json(snap).rendered()
        let array = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(array.count == 5)
        for key in ["name", "tenant_id", "host", "runtime", "systemdActive", "systemdEnabled", "paneAlive", "panePid",
                    "paneCommand", "idleSeconds", "heartbeat", "driftFlag", "bootEnableWarning", "probe"] {
            #expect(array[0][key] != nil, "missing key \(key)")
        }
        let gone = try #require(array.first { $0["name"] as? String == "gone" })
        #expect(gone["panePid"] is NSNull)
        #expect(gone["probe"] is NSNull)
        let hb = try #require(gone["heartbeat"] as? [String: Any])
        #expect(Set(hb.keys) == ["ts", "pid", "status", "health", "ageMs"])
        #expect(hb["ts"] is NSNull)
        #expect(array.last?["kind"] as? String == "stray")
    }

    @Test("the table shows n/a without systemd and names the flags")
    func table() {
        var r = readings
        r.units = nil
        let text = SnapshotRenderer.table(FleetSnapshot.join(roster: roster, readings: r, now: now), width: 200, color: false)
        #expect(text.contains("systemd n/a"))
        #expect(text.contains("DRIFT(mosaic)"))
        #expect(text.contains("MISSING"))
        #expect(text.contains("visitor"))
        #expect(!text.contains("\u{1B}["), "no colour when colour is off")
    }
}

@Suite("runtime drift table")
struct DriftTests {
    @Test("node-run runtimes are not drift when the pane shows node", arguments: [RuntimeKind.pi, .opencode, .codex, .claude])
    func nodeRuntimes(_ kind: RuntimeKind) {
        #expect(Runtimes.of(kind).isDrift(paneCommand: "node") == false)
        #expect(Runtimes.of(kind).isDrift(paneCommand: "mosaic") == true)
        #expect(Runtimes.of(kind).isDrift(paneCommand: "bash") == true)
    }

    @Test("each runtime runs as its own name too (measured: claude, codex, pi; opencode's native binary and bun from its documentation); another runtime's name is drift")
    func ownNames() {
        let own: [(RuntimeKind, [String])] = [(.claude, ["claude"]), (.codex, ["codex"]), (.pi, ["pi"]), (.opencode, ["opencode", "bun"]), (.aider, ["aider", "python3"])]
        for (kind, names) in own {
            for name in names { #expect(Runtimes.of(kind).isDrift(paneCommand: name) == false, "\(kind) as \(name)") }
            for (other, otherNames) in own where other != kind {
                for name in otherNames where !names.contains(name) {
                    #expect(Runtimes.of(kind).isDrift(paneCommand: name) == true, "\(kind) as \(other)'s \(name)")
                }
            }
        }
    }

    @Test("each runtime's reset command is its own way to start a new conversation")
    func resetCommands() {
        let expected: [RuntimeKind: String] = [.claude: "/clear", .codex: "/new", .pi: "/new", .opencode: "/new", .aider: "/clear"]
        for (kind, command) in expected { #expect(Runtimes.of(kind).resetCommand == command, "\(kind)") }
    }

    @Test("aider runs as python or as itself; custom never drifts; unknown input is not drift")
    func others() {
        #expect(Runtimes.of(.aider).isDrift(paneCommand: "python3.11") == false)
        #expect(Runtimes.of(.aider).isDrift(paneCommand: "aider") == false)
        #expect(Runtimes.of(.custom).isDrift(paneCommand: "anything") == nil)
        #expect(Runtimes.of(.stub).isDrift(paneCommand: nil) == nil)
        #expect(Runtimes.of(.stub).isDrift(paneCommand: "mosaic") == false)
    }
}
