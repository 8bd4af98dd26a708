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
        let text = try SnapshotRenderer.json(snapshot).rendered() + "\n"
        #expect(text == (try SampleFleet.fixture(name)))
    }

    @Test("the table is what it was, colours included, for the same fleets",
          arguments: [("fleet.table", SampleFleet.readings), ("nothing-running.table", SampleFleet.nothingRunning)])
    func pinnedTable(_ name: String, _ readings: PlaneReadings) throws {
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: SampleFleet.now)
        #expect(SnapshotRenderer.table(snapshot, width: 200, color: true) == (try SampleFleet.fixture(name)))
    }
}


@Suite("the fleet ps --json document, read back")
struct PSDocumentDecodingTests {
    static let fleets = [("fleet.json", SampleFleet.readings), ("nothing-running.json", SampleFleet.nothingRunning)]

    @Test("encode, decode, equal: the same type writes and reads the document", arguments: fleets)
    func roundTrip(_ name: String, _ readings: PlaneReadings) throws {
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: SampleFleet.now)
        let document = FleetDocument(snapshot)
        let decoded = try FleetDocument.decode(Data(try document.rendered().utf8))
        #expect(decoded == document)
        #expect(decoded.agents == snapshot.agents && decoded.strays == snapshot.strays)
        #expect(try decoded.rendered() == document.rendered())
    }

    @Test("the output captured before the document was typed reads back into exactly the rows the join makes", arguments: fleets)
    func decodesTodaysOutput(_ name: String, _ readings: PlaneReadings) throws {
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: SampleFleet.now)
        let old = try FleetDocument.decode(Data(try SampleFleet.fixture(name).utf8))
        #expect(old == FleetDocument(snapshot))
    }

    @Test("every key today's ps --json has is there, in order, with null for missing knowledge")
    func keysInOrder() throws {
        let agentKeys = ["kind", "name", "tenant_id", "host", "runtime", "role", "model", "effort", "systemdActive", "systemdEnabled",
                         "systemdState", "session", "paneAlive", "panePid", "paneCommand", "paneExitStatus", "paneExitSignal", "lastOutput",
                         "processCommand", "processState", "idleSeconds", "heartbeat", "driftFlag", "bootEnableWarning", "probe", "runState",
                         "runtimeProcess", "state", "waitingFor", "silentBusy", "healthy", "problems", "lifecycle"]
        let strayKeys = ["kind", "name", "tenant_id", "host", "paneAlive", "panePid", "paneCommand", "idleSeconds"]
        guard case .array(let items) = try SnapshotRenderer.json(SampleFleet.snapshot) else { Issue.record("not an array"); return }
        func keys(_ value: JSON) -> [String] { if case .object(let fields) = value { fields.map(\.0) } else { [] } }
        func field(_ value: JSON, _ key: String) -> JSON? { if case .object(let fields) = value { fields.first { $0.0 == key }?.1 } else { nil } }
        #expect(items.count == 13, "11 agents, then 2 strays")
        for item in items {
            let kind = field(item, "kind")
            #expect(keys(item) == (kind == .string("agent") ? agentKeys : strayKeys), "\(keys(item))")
            if kind == .string("agent") {
                #expect(keys(field(item, "heartbeat")!) == ["ts", "pid", "status", "health", "ageMs"])
                if let probe = field(item, "probe"), probe != .null { #expect(keys(probe) == ["nonce", "answered", "latencyMs"]) }
                if let process = field(item, "runtimeProcess"), process != .null { #expect(keys(process) == ["pid", "command", "state"]) }
            }
        }
        let gone = try #require(items.first { field($0, "name") == .string("gone") })
        for key in ["role", "panePid", "paneCommand", "lastOutput", "processState", "idleSeconds", "driftFlag", "probe", "runState",
                    "runtimeProcess", "state", "waitingFor"] {
            #expect(field(gone, key) == .null, "\(key) is not null")
        }
        #expect(field(field(gone, "heartbeat")!, "ts") == .null)
    }

    @Test("the Codable types write null for nil with JSONEncoder too (only the key order is its own)")
    func jsonEncoderAgrees() throws {
        let document = FleetDocument(SampleFleet.snapshot)
        let ours = try JSONSerialization.jsonObject(with: Data(try document.rendered().utf8)) as? NSArray
        let theirs = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(document)) as? NSArray
        #expect(ours != nil && ours == theirs)
    }

    @Test("an entry of another kind is refused, naming it")
    func unknownKind() throws {
        let error = #expect(throws: DecodingError.self) {
            try FleetDocument.decode(Data(#"[{"kind": "robot", "name": "x"}]"#.utf8))
        }
        #expect("\(String(describing: error))".contains("robot"))
    }
}

@Suite("problems: one sentence each, read back into the same case")
struct ProblemTests {
    static let all: [Problem] = [
        .noServer, .noSession, .exited(status: nil), .exited(status: 3), .killed(signal: 9), .killed(signal: 42), .lastOutput("Error: x (y)"),
        .processStopped(command: nil, pid: nil), .processStopped(command: "aider", pid: 11), .processStopped(command: "my tool", pid: 7),
        .runtimeNotRunning(paneRuns: "bash"), .noHeartbeat, .heartbeatStale, .heartbeatFuture, .probeUnanswered, .silentBusy(seconds: 120),
        .silentBusy(seconds: 7200), .drift(runsAs: "mosaic"), .drift(runsAs: nil), .notEnabledAtBoot, .lingerOff, .unrecognized("on fire"),
    ]

    @Test("every problem's sentence reads back as that problem", arguments: all)
    func roundTrip(_ problem: Problem) {
        #expect(Problem(sentence: problem.sentence) == problem, "\(problem.sentence)")
    }

    @Test("the sentences scripts match on are today's")
    func sentences() {
        #expect(Problem.killed(signal: 9).sentence == "killed by SIGKILL")
        #expect(Problem.killed(signal: 42).sentence == "killed by signal 42")
        #expect(Problem.processStopped(command: "aider", pid: 11).sentence == "process stopped (aider 11)")
        #expect(Problem.silentBusy(seconds: 121).sentence == "busy, but its screen has not changed for 2m: hung?")
        #expect(Problem.drift(runsAs: nil).sentence == "drift: runs ?")
        #expect(Problem.exited(status: 0).sentence == "exited with status 0")
    }

    @Test("drift and the boot warnings need attention but do not explain an unhealthy agent; the rest do")
    func explains() {
        let notExplaining = Self.all.filter { !$0.explainsUnhealthy }
        #expect(notExplaining == [.drift(runsAs: "mosaic"), .drift(runsAs: nil), .notEnabledAtBoot, .lingerOff])
    }

    @Test("a silent-busy problem read back takes its exact time from the row's idle seconds")
    func silentBusyExact() throws {
        let hung = try #require(SampleFleet.snapshot.agents.first { $0.name == "hung" })
        #expect(hung.problems == [.silentBusy(seconds: 121)])
        #expect(Problem(sentence: hung.problems[0].sentence) == .silentBusy(seconds: 120), "alone, the sentence has the table's precision")
        let decoded = try FleetDocument.decode(Data(try FleetDocument(SampleFleet.snapshot).rendered().utf8))
        #expect(decoded.agents.first { $0.name == "hung" }?.problems == [.silentBusy(seconds: 121)])
    }
}

@Suite("a heartbeat dated in the future")
struct FutureHeartbeatTests {
    @Test("ahead of the clock by more than one interval is future: not healthy, said so in JSON and the table")
    func future() throws {
        let roster = Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 10, agents: [
            AgentSpec(name: "ahead", runtime: .stub), AgentSpec(name: "skewed", runtime: .stub),
        ])
        let now = SampleFleet.now
        let readings = PlaneReadings(
            panes: [SampleFleet.pane("ahead", pid: 10, command: "mosaic"), SampleFleet.pane("skewed", pid: 11, command: "mosaic")],
            units: nil, enabledUnits: nil, linger: nil,
            processes: [10: ProcessSample(pid: 10, comm: "mosaic", state: "S"), 11: ProcessSample(pid: 11, comm: "mosaic", state: "S")],
            heartbeats: ["ahead": Heartbeat(ts: now.addingTimeInterval(3600), pid: 10, status: "busy"),
                         "skewed": Heartbeat(ts: now.addingTimeInterval(10), pid: 11)])
        let snapshot = FleetSnapshot.join(roster: roster, readings: readings, now: now)
        let ahead = try #require(snapshot.agents.first { $0.name == "ahead" })
        #expect(ahead.heartbeat.health == .future && !ahead.healthy && ahead.state == nil)
        #expect(ahead.problems == [.heartbeatFuture])
        let skewed = try #require(snapshot.agents.first { $0.name == "skewed" })
        #expect(skewed.heartbeat.health == .healthy && skewed.healthy, "one interval ahead is still a clock's skew")
        #expect(try SnapshotRenderer.json(snapshot).rendered().contains(#""health": "future""#))
        let table = SnapshotRenderer.table(snapshot, width: 200, color: false)
        #expect(table.contains("  future  "), "\(table)")
        #expect(table.contains("ahead: heartbeat dated ahead of the clock"))
    }
}

@Suite("the agent send --json document")
struct SendOutcomeDocumentTests {
    @Test("its keys in order, null where unknown, and it reads back into the same outcome")
    func document() throws {
        let outcome = SendOutcome(agent: "coder", id: "m-1", verdict: nil, typed: true, submitted: false, delivery: .paste, bytes: 12,
                                  inputShape: nil, clearedDraft: nil, reason: "typed and left in the input line (--no-submit)", elapsedMs: 40)
        let text = try OrderedJSONEncoder().render(outcome, pretty: false)
        #expect(text == #"{"agent":"coder","id":"m-1","verdict":null,"typed":true,"submitted":false,"delivery":"paste","bytes":12,"#
                + #""inputShape":null,"clearedDraft":null,"reason":"typed and left in the input line (--no-submit)","elapsedMs":40}"#)
        #expect(try JSONDecoder().decode(SendOutcome.self, from: Data(text.utf8)) == outcome)
    }
}

@Suite("states read from a heartbeat")
struct ReportedStateTests {
    @Test("the status word as a state, the waiting= key only while waiting, unknown words kept")
    func heartbeatStates() {
        let now = SampleFleet.now
        let approval = Heartbeat(ts: now, pid: 1, status: "waiting", extra: [("waiting", "approval")])
        #expect(approval.reportedState == .waiting && approval.waitingFor == .approval)
        #expect(Heartbeat(ts: now, pid: 1, status: "waiting", extra: [("waiting", "input")]).waitingFor == .input)
        #expect(Heartbeat(ts: now, pid: 1, status: "busy", extra: [("waiting", "approval")]).waitingFor == nil, "busy waits for nothing")
        #expect(Heartbeat(ts: now, pid: 1, status: "waiting", extra: [("waiting", "coffee")]).waitingFor == nil)
        let odd = Heartbeat(ts: now, pid: 1, status: "compacting")
        #expect(odd.reportedState == .other("compacting") && odd.reportedState.rawValue == "compacting")
        #expect(ProcessState(rawValue: "T").isStopped && ProcessState(rawValue: "t").isStopped && !ProcessState(rawValue: "S").isStopped)
        #expect(ProcessState(rawValue: "W") == .other("W") && ProcessState.zombie.rawValue == "Z")
        #expect(SystemdState("active/exited") == SystemdState(active: "active", sub: "exited") && SystemdState("inactive") == .notLoaded)
    }

    @Test("the whole snapshot round-trips through JSONEncoder and JSONDecoder too")
    func snapshotCodable() throws {
        let snapshot = SampleFleet.snapshot
        #expect(try JSONDecoder().decode(FleetSnapshot.self, from: JSONEncoder().encode(snapshot)) == snapshot)
    }
}
