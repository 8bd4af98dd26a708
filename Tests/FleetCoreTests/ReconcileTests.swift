import Foundation
import Testing
@testable import FleetCore

/// The pure decision of up, down and restart: what the plan says for each observed world.
@Suite("reconcile: the plan for an observed fleet")
struct ReconcileTests {
    let roster = Roster(tenant: "t", host: "h", socketName: "mosaic-unit-test",
                        agents: ["a", "b", "c"].map { AgentSpec(name: $0, runtime: .stub) })
    let holderUnit = FleetFiles.holderUnit
    func unit(_ name: String) -> String { FleetFiles.agentUnit(name) }

    func alive(_ name: String, _ pid: Int32 = 100) -> Observation.Session {
        .init(name: name, alive: true, paneId: "%\(pid)", pid: pid)
    }
    func dead(_ name: String) -> Observation.Session { .init(name: name, alive: false, paneId: "%9", pid: 9) }
    func plan(_ intent: Intent, _ seen: Observation) -> [Action] {
        Reconciler.reconcile(roster: roster, observation: seen, intent: intent)
    }

    // MARK: up, tmux alone

    @Test("up with no server: the holder first (it starts the server), then every agent")
    func upNoServer() {
        #expect(plan(.up(["a", "b"]), Observation(sessions: nil, units: nil))
                == [.createHolder, .startAgent(agent: "a"), .startAgent(agent: "b")])
    }

    @Test("up leaves a live pane alone, restarts a dead one and starts a missing one, in the intent's order")
    func upMixed() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a", 42), dead("b")], units: nil)
        #expect(plan(.up(["a", "b", "c"]), seen) == [
            .leaveRunning(agent: "a", reason: .paneAlive(paneId: "%42", pid: 42)),
            .restartDeadPane(agent: "b"),
            .startAgent(agent: "c"),
        ])
    }

    @Test("up with everything running changes nothing")
    func upAllRunning() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a", 2)], units: nil)
        let steps = plan(.up(["a"]), seen)
        #expect(steps == [.leaveRunning(agent: "a", reason: .paneAlive(paneId: "%2", pid: 2))])
        #expect(Launcher.batches(steps).isEmpty, "no call at all")
    }

    @Test("a running server without its holder session gets the holder back; a dead holder session counts as there")
    func upHolderMissing() {
        #expect(plan(.up(["a"]), Observation(sessions: [alive("a")], units: nil)).first == .createHolder)
        #expect(plan(.up(["a"]), Observation(sessions: [dead("_holder"), alive("a")], units: nil)).first != .createHolder)
    }

    // MARK: up, through systemd

    @Test("through systemd with nothing running: one start of the holder and every agent unit")
    func upSystemdFresh() {
        #expect(plan(.up(["a", "b"]), Observation(sessions: nil, units: [:])) == [
            .startUnit(unit: holderUnit), .startUnit(unit: unit("a")), .startUnit(unit: unit("b")),
        ])
    }

    @Test("a tmux server the holder unit does not run is refused, and nothing else is planned")
    func upUnmanagedServer() {
        let seen = Observation(sessions: [alive("a")], units: [unit("a"): .active])
        #expect(plan(.up(["a"]), seen) == [.refuse(.unmanagedServer(socket: "mosaic-unit-test"))])
        #expect(plan(.restart(["a"]), seen) == [.refuse(.unmanagedServer(socket: "mosaic-unit-test"))],
                "restart refuses before it stops anything")
        #expect(plan(.down(["a"]), seen).contains(.killSession(agent: "a")), "down clears such a server's agents")
    }

    @Test("through systemd: active with a live pane is left, active without a session restarts, failed units are reset first")
    func upSystemdMixed() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a", 2), dead("c")],
                               units: [holderUnit: .active, unit("a"): .active, unit("b"): .active, unit("c"): .failed])
        #expect(plan(.up(["a", "b", "c"]), seen) == [
            .leaveRunning(agent: "a", reason: .unitActive),
            .resetFailed(unit: unit("c")),
            .startUnit(unit: holderUnit), .startUnit(unit: unit("c")),
            .restartUnit(unit: unit("b")),
        ])
    }

    @Test("through systemd with every agent running: no reset, no start, not even of the holder")
    func upSystemdAllRunning() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a", 2)], units: [holderUnit: .active, unit("a"): .active])
        #expect(plan(.up(["a"]), seen) == [.leaveRunning(agent: "a", reason: .unitActive)])
    }

    @Test("through systemd: a running holder unit whose server lost the holder session gets it back; a failed holder is reset")
    func upSystemdHolder() {
        let lost = Observation(sessions: [], units: [holderUnit: .active])
        #expect(plan(.up(["a"]), lost).first == .createHolder)
        let failed = Observation(sessions: nil, units: [holderUnit: .failed])
        #expect(plan(.up(["a"]), failed) == [.resetFailed(unit: holderUnit), .startUnit(unit: holderUnit), .startUnit(unit: unit("a"))])
    }

    // MARK: down

    @Test("down of a subset kills what exists, removes every named agent's files and keeps the server")
    func downSubset() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a"), dead("b")], units: nil)
        #expect(plan(.down(["a", "b", "c"]), seen) == [
            .killSession(agent: "a"), .killSession(agent: "b"),
            .removeHeartbeat(agent: "a"), .removeHeartbeat(agent: "b"), .removeHeartbeat(agent: "c"),
        ])
    }

    @Test("down of everything stops the server too, after the agents' files are gone")
    func downAll() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a")], units: nil)
        #expect(plan(.downAll, seen) == [
            .killSession(agent: "a"),
            .removeHeartbeat(agent: "a"), .removeHeartbeat(agent: "b"), .removeHeartbeat(agent: "c"),
            .killServer,
        ])
    }

    @Test("strays block kill-server: they are named, sorted, and the holder stays")
    func downAllStrays() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("zeta"), alive("a"), alive("interloper")],
                               units: [holderUnit: .active, unit("a"): .active])
        let steps = plan(.downAll, seen)
        #expect(steps.last == .keepServer(strays: ["interloper", "zeta"]))
        #expect(!steps.contains(.killServer))
        #expect(!steps.contains(.stopUnit(unit: holderUnit)))
        #expect(steps.contains(.stopUnit(unit: unit("a"))))
    }

    @Test("down of everything with no server and no units only removes files")
    func downNothingRuns() {
        #expect(plan(.downAll, Observation(sessions: nil, units: [:])) == ["a", "b", "c"].map { .removeHeartbeat(agent: $0) })
    }

    @Test("through systemd, down kills the sessions, then stops the active units, then the holder unit and the server")
    func downAllSystemd() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a"), alive("c")],
                               units: [holderUnit: .active, unit("a"): .active, unit("b"): .failed, unit("c"): .inactive])
        #expect(plan(.downAll, seen) == [
            .killSession(agent: "a"), .killSession(agent: "c"),
            .stopUnit(unit: unit("a")),
            .removeHeartbeat(agent: "a"), .removeHeartbeat(agent: "b"), .removeHeartbeat(agent: "c"),
            .stopUnit(unit: holderUnit), .killServer,
        ])
    }

    // MARK: restart

    @Test("restart under tmux stops and starts the agents and keeps the server and holder")
    func restartTmux() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a"), dead("b")], units: nil)
        #expect(plan(.restart(["a", "b"]), seen) == [
            .killSession(agent: "a"), .killSession(agent: "b"),
            .removeHeartbeat(agent: "a"), .removeHeartbeat(agent: "b"),
            .startAgent(agent: "a"), .startAgent(agent: "b"),
        ])
    }

    @Test("restart under tmux with no server starts the holder first")
    func restartNoServer() {
        #expect(plan(.restart(["a"]), Observation(sessions: nil, units: nil))
                == [.removeHeartbeat(agent: "a"), .createHolder, .startAgent(agent: "a")])
    }

    @Test("restart through systemd stops the units, then starts them with the holder; a failed unit is reset")
    func restartSystemd() {
        let seen = Observation(sessions: [alive("_holder", 1), alive("a")],
                               units: [holderUnit: .active, unit("a"): .active, unit("b"): .failed])
        #expect(plan(.restart(["a", "b"]), seen) == [
            .killSession(agent: "a"),
            .stopUnit(unit: unit("a")),
            .removeHeartbeat(agent: "a"), .removeHeartbeat(agent: "b"),
            .resetFailed(unit: unit("b")),
            .startUnit(unit: holderUnit), .startUnit(unit: unit("a")), .startUnit(unit: unit("b")),
        ])
    }

    // MARK: the observation

    @Test("an observation from list-panes and list-units: the first pane per session, activating counts as active")
    func observationFromPlanes() {
        let panes = [
            PaneInfo(sessionName: "a", paneId: "%1", pid: 11, currentCommand: "mosaic"),
            PaneInfo(sessionName: "a", windowIndex: 1, paneId: "%2", pid: 12, currentCommand: "sh"),
            PaneInfo(sessionName: "b", paneId: "%3", pid: 13, dead: true, deadStatus: 1, currentCommand: "sh"),
        ]
        let units = [UnitState(name: "u1", load: "loaded", active: "activating", sub: "start"),
                     UnitState(name: "u2", load: "loaded", active: "failed", sub: "failed"),
                     UnitState(name: "u3", load: "loaded", active: "deactivating", sub: "stop")]
        let seen = Observation(panes: panes, units: units)
        #expect(seen.sessions == [.init(name: "a", alive: true, paneId: "%1", pid: 11), .init(name: "b", alive: false, paneId: "%3", pid: 13)])
        #expect(seen.units == ["u1": .active, "u2": .failed, "u3": .inactive])
        #expect(Observation(panes: nil, units: nil) == Observation(sessions: nil, units: nil))
    }

    @Test("an observation from a joined snapshot plans like one from the planes (the holder asked for again, harmlessly)")
    func observationFromSnapshot() {
        let panes = [PaneInfo(sessionName: "a", paneId: "%1", pid: 11, currentCommand: "mosaic"),
                     PaneInfo(sessionName: "b", paneId: "%2", pid: 12, dead: true, currentCommand: "sh"),
                     PaneInfo(sessionName: "stray", paneId: "%3", pid: 13, currentCommand: "sleep")]
        let units = [UnitState(name: unit("a"), load: "loaded", active: "active", sub: "exited")]
        let readings = PlaneReadings(panes: panes, units: units, enabledUnits: [], linger: false, processes: [:], heartbeats: [:])
        let snapshot = FleetSnapshot.join(roster: roster, readings: readings, now: Date())
        let seen = Observation(snapshot: snapshot, holderUnit: .active)
        #expect(seen.session("a")?.alive == true && seen.session("a")?.pid == 11)
        #expect(seen.session("b")?.alive == false)
        #expect(seen.session("c") == nil)
        #expect(seen.session("stray") != nil)
        #expect(seen.unit(unit("a")) == .active && seen.unit(unit("b")) == .inactive)
        #expect(plan(.downAll, seen).last == .keepServer(strays: ["stray"]))
        #expect(plan(.up(["a", "b", "c"]), seen) == [
            .createHolder, .leaveRunning(agent: "a", reason: .unitActive),
            .startUnit(unit: holderUnit), .startUnit(unit: unit("b")), .startUnit(unit: unit("c")),
        ])
        #expect(plan(.up(["a"]), Observation(snapshot: snapshot, holderUnit: .inactive)) == [.refuse(.unmanagedServer(socket: "mosaic-unit-test"))])
        let tmuxOnly = Observation(snapshot: FleetSnapshot.join(
            roster: roster, readings: PlaneReadings(panes: nil, units: nil, enabledUnits: nil, linger: nil, processes: [:], heartbeats: [:]),
            now: Date()), holderUnit: .active)
        #expect(tmuxOnly == Observation(sessions: nil, units: nil))
    }

    // MARK: journal

    @Test("a plan encodes to JSON and decodes back to the same steps; each step reads as a sentence")
    func codable() throws {
        let steps: [Action] = [
            .createHolder, .startAgent(agent: "a"), .restartDeadPane(agent: "b"), .killSession(agent: "c"),
            .removeHeartbeat(agent: "c"), .killServer, .resetFailed(unit: unit("a")), .startUnit(unit: holderUnit),
            .restartUnit(unit: unit("b")), .stopUnit(unit: unit("c")),
            .leaveRunning(agent: "a", reason: .paneAlive(paneId: "%1", pid: 7)), .leaveRunning(agent: "b", reason: .unitActive),
            .keepServer(strays: ["x"]), .refuse(.unmanagedServer(socket: "s")),
        ]
        let data = try JSONEncoder().encode(steps)
        #expect(try JSONDecoder().decode([Action].self, from: data) == steps)
        #expect(String(decoding: data, as: UTF8.self).contains(#"{"startAgent":{"agent":"a"}}"#))
        #expect(steps.map(\.description).allSatisfy { !$0.isEmpty })
        #expect(Action.leaveRunning(agent: "a", reason: .paneAlive(paneId: "%1", pid: 7)).description == "leave a running (pane %1 pid 7)")
        #expect(Action.restartUnit(unit: unit("b")).agent == "b")
        #expect(Action.startUnit(unit: holderUnit).agent == nil)
        let intent = Intent.restart(["a"])
        #expect(try JSONDecoder().decode(Intent.self, from: JSONEncoder().encode(intent)) == intent)
        let seen = Observation(sessions: [alive("a")], units: [unit("a"): .failed])
        #expect(try JSONDecoder().decode(Observation.self, from: JSONEncoder().encode(seen)) == seen)
    }

    // MARK: batching

    @Test("steps of one kind that stand together run as one call; decisions without I/O do not split them")
    func batching() {
        let steps: [Action] = [
            .createHolder, .startAgent(agent: "a"), .leaveRunning(agent: "b", reason: .unitActive), .restartDeadPane(agent: "c"),
            .startAgent(agent: "d"), .killSession(agent: "e"), .killSession(agent: "f"), .removeHeartbeat(agent: "e"),
            .startUnit(unit: holderUnit), .startUnit(unit: unit("a")), .restartUnit(unit: unit("b")), .keepServer(strays: []),
        ]
        let runs = Launcher.batches(steps)
        #expect(runs.map(\.batch) == [.holder, .sessions, .kill, .files, .startUnits, .restartUnits])
        #expect(runs[1].steps.compactMap(\.agent) == ["a", "c", "d"])
        #expect(Launcher.agentUnitJobs(steps) == [unit("a"), unit("b")], "the holder is not an agent's job")
    }
}

/// The executor against a recording fake: one observation, then the plan's calls, batched.
@Suite("launcher: a plan's calls, batched")
struct LauncherExecuteTests {
    func withHome(_ body: (String) async throws -> Void) async throws {
        var template = Array("\(NSTemporaryDirectory())/mosaic-exec.XXXXXX".utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(dir)
    }

    func context(_ home: String, _ runner: RecordingRunner, systemd: Bool) -> FleetContext {
        var env = ["HOME": home, "XDG_CONFIG_HOME": home, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        if systemd { env["XDG_RUNTIME_DIR"] = home }
        return FleetContext(paths: FleetPaths(home: home), environment: env, userName: "u", hostName: "h",
                            mosaicExecutable: "/opt/mosaic", runner: runner)
    }

    static func panes(_ lines: [(String, String, Int32, Bool)]) -> ProcessResult {
        let text = lines.map { name, id, pid, dead in
            [name, "0", id, String(pid), dead ? "1" : "0", dead ? "1" : "", "", "0", "0", "80", "24", "mosaic"].joined(separator: "\t") + "\n"
        }.joined()
        return ProcessResult(status: 0, standardOutput: Data(text.utf8))
    }

    static let noServer = ProcessResult(status: 1, standardError: Data("no server running on /tmp/x\n".utf8))

    @Test("up through tmux: one list-panes, one kill of the dead session, one call creating every missing one")
    func upTmux() async throws {
        try await withHome { home in
            let created = OneWaySwitch()
            let runner = RecordingRunner { inv in
                let args = inv.arguments
                if args.contains("new-session") { created.set() }
                if args.contains("list-panes") {
                    return created.isSet
                        ? Self.panes([("_holder", "%1", 1, false), ("a", "%2", 42, false), ("b", "%5", 50, false), ("c", "%6", 60, false)])
                        : Self.panes([("_holder", "%1", 1, false), ("a", "%2", 42, false), ("b", "%3", 43, true)])
                }
                return ProcessResult(status: 0)
            }
            let roster = Roster(tenant: "t", host: "h", socketName: "mosaic-unit-test",
                                agents: ["a", "b", "c"].map { AgentSpec(name: $0, runtime: .stub) })
            let launcher = try Launcher(context: context(home, runner, systemd: false), roster: roster, useSystemd: false)
            let outcomes = try await launcher.up(roster.agents)
            #expect(outcomes.map(\.action) == [.alreadyRunning, .restarted, .started])
            #expect(outcomes[0].detail == "pane %2 pid 42")
            #expect(outcomes.allSatisfy { $0.via == "tmux" })
            let calls = runner.invocations.map(\.arguments).map { Array($0.drop { $0 != "-f" }.dropFirst(2)) }
            #expect(calls.map { $0.first ?? "" } == ["list-panes", "kill-session", "new-session", "list-panes"],
                    "observe, kill, create, confirm: \(calls)")
            #expect(calls[1] == ["kill-session", "-t", "=b"])
            #expect(calls[2].contains("b") && calls[2].contains("c") && !calls[2].contains("a"))
        }
    }

    @Test("down of everything through systemd: kill the sessions, stop the agent units in one call, then the holder and the server")
    func downSystemd() async throws {
        try await withHome { home in
            let killed = OneWaySwitch()
            let runner = RecordingRunner { inv in
                let args = inv.arguments
                if inv.executable == "systemctl" {
                    guard args.contains("list-units") else { return ProcessResult(status: 0) }
                    let lines = "mosaic-holder.service loaded active running holder\nmosaic-agent@a.service loaded active exited agent a\n"
                    return ProcessResult(status: 0, standardOutput: Data(lines.utf8))
                }
                if args.contains("kill-server") { killed.set() }
                if args.contains("display-message") { return ProcessResult(status: 0, standardOutput: Data("\(home)/sock\n".utf8)) }
                if args.contains("list-panes") {
                    return killed.isSet ? Self.noServer : Self.panes([("_holder", "%1", 1, false), ("a", "%2", 42, false), ("b", "%3", 43, true)])
                }
                return ProcessResult(status: 0)
            }
            _ = FileManager.default.createFile(atPath: "\(home)/sock", contents: Data())
            let roster = Roster(tenant: "t", host: "h", socketName: "mosaic-unit-test",
                                agents: ["a", "b", "c"].map { AgentSpec(name: $0, runtime: .stub) })
            let launcher = try Launcher(context: context(home, runner, systemd: true), roster: roster, useSystemd: true)
            let result = try await launcher.down(roster.agents, all: true)
            #expect(result.outcomes.map(\.action) == [.stopped, .stopped, .notRunning])
            #expect(result.serverStopped && result.strays.isEmpty)
            let calls = runner.invocations.map { inv in
                inv.executable == "systemctl" ? Array(inv.arguments.dropFirst(2)) : Array(inv.arguments.drop { $0 != "-f" }.dropFirst(2))
            }
            #expect(calls.map { $0.first ?? "" } == ["list-units", "list-panes", "display-message", "kill-session",
                                                      "stop", "stop", "kill-server", "list-panes"], "\(calls)")
            #expect(calls.first { $0.first == "kill-session" } == ["kill-session", "-t", "=a", ";", "kill-session", "-t", "=b"])
            #expect(calls.filter { $0.first == "stop" } == [["stop", "mosaic-agent@a.service"], ["stop", "mosaic-holder.service"]])
            #expect(!FileManager.default.fileExists(atPath: "\(home)/sock"), "the socket file the server left is removed")
        }
    }

    @Test("a kill that finds a session already gone kills the rest and does not fail")
    func killTolerant() async throws {
        try await withHome { home in
            let runner = RecordingRunner { inv in
                let args = inv.arguments
                if args.contains("kill-session") && args.contains("=a") {
                    return ProcessResult(status: 1, standardError: Data("can't find session: a\n".utf8))
                }
                if args.contains("list-panes") { return Self.panes([("_holder", "%1", 1, false), ("b", "%3", 43, false)]) }
                return ProcessResult(status: 0)
            }
            let roster = Roster(tenant: "t", host: "h", socketName: "mosaic-unit-test", agents: [])
            let launcher = try Launcher(context: context(home, runner, systemd: false), roster: roster, useSystemd: false)
            try await launcher.killSessions(["a", "b"])
            let kills = runner.invocations.map(\.arguments).filter { $0.contains("kill-session") }
            #expect(kills.count == 2)
            #expect(kills.last?.suffix(3) == ["kill-session", "-t", "=b"])
        }
    }
}
