import Foundation
import Testing
@testable import FleetCore

/// The judgement the sidecar and `fleet ps` share, on process trees built under a fake /proc.
@Suite("runtime liveness: is the runtime really there")
struct RuntimeLivenessTests {
    /// A fake /proc: `procs` are (pid, ppid, comm, state); children files follow from ppid.
    func fakeProc(_ procs: [(Int32, Int32, String, String)]) throws -> String {
        var template = Array("\(NSTemporaryDirectory())/fake-proc.XXXXXX".utf8CString)
        guard let root = mkdtemp(&template).map({ String(cString: $0) }) else { throw FileIO.Failure(path: "tmp", reason: "mkdtemp") }
        for (pid, ppid, comm, state) in procs {
            try FileIO.makeDirectory("\(root)/\(pid)/task/\(pid)", mode: 0o755)
            // Fields 1..22: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
            // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime …
            try FileIO.writeAtomically("\(pid) (\(comm)) \(state) \(ppid) \(pid) \(pid) 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 \(1000 + Int(pid)) 0 0\n",
                                       to: "\(root)/\(pid)/stat")
            let kids = procs.filter { $0.1 == pid }.map { String($0.0) }.joined(separator: " ")
            try FileIO.writeAtomically(kids.isEmpty ? "" : kids + " ", to: "\(root)/\(pid)/task/\(pid)/children")
        }
        return root
    }

    func judge(_ procs: [(Int32, Int32, String, String)], _ kind: RuntimeKind, identity: UInt64? = nil) throws -> RuntimeLiveness {
        let root = try fakeProc(procs)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return RuntimeLiveness.judge(ProcessTable(procRoot: root).sample(procs[0].0), adapter: Runtimes.of(kind), identity: identity)
    }

    @Test("the runtime as the pane's process: running; stopped; gone; a reused pid is gone")
    func root() throws {
        #expect(try judge([(10, 1, "aider", "S")], .aider).word == "running")
        #expect(try judge([(10, 1, "aider", "T")], .aider).word == "stopped")
        #expect(try judge([(10, 1, "aider", "Z")], .aider) == .gone)
        #expect(RuntimeLiveness.judge(nil, adapter: Runtimes.of(.aider)) == .gone)
        #expect(try judge([(10, 1, "aider", "S")], .aider, identity: 99) == .gone, "started at 1010, not 99: another process")
        #expect(try judge([(10, 1, "aider", "S")], .aider, identity: 1010).isRunning)
    }

    @Test("back to a shell, or something else in the pane: not running")
    func shell() throws {
        #expect(try judge([(10, 1, "bash", "S")], .claude) == .notRunning(rootCommand: "bash"))
        #expect(try judge([(10, 1, "bash", "S"), (11, 10, "vim", "S")], .claude) == .notRunning(rootCommand: "bash"))
        #expect(try judge([(10, 1, "sh", "S"), (11, 10, "aider", "Z")], .aider) == .notRunning(rootCommand: "sh"), "a zombie runtime is no runtime")
    }

    @Test("under a wrapper: the runtime is found below; its stop sticks (tmux only continues the pane's process) and counts")
    func wrapper() throws {
        let running = try judge([(10, 1, "sh", "S"), (11, 10, "aider", "S")], .aider)
        #expect(running.process?.pid == 11 && running.isRunning)
        let stopped = try judge([(10, 1, "sh", "S"), (11, 10, "aider", "T")], .aider)
        #expect(stopped == .stopped(ProcessNode(pid: 11, ppid: 10, comm: "aider", state: "T", startTime: 1011)))
        // A node launcher that spawns the native binary (codex, opencode from npm).
        #expect(try judge([(10, 1, "node", "S"), (11, 10, "codex", "T")], .codex).word == "stopped")
        #expect(try judge([(10, 1, "node", "S"), (11, 10, "codex", "S"), (12, 11, "bash", "T")], .codex).isRunning,
                "a stopped tool the runtime runs is not the runtime stopped")
        #expect(try judge([(10, 1, "sh", "T"), (11, 10, "aider", "S")], .aider).word == "stopped")
    }

    @Test("custom runtimes: only the pane's process is judged, never 'not running'")
    func custom() throws {
        #expect(try judge([(10, 1, "bash", "S")], .custom).isRunning)
        #expect(try judge([(10, 1, "bash", "T")], .custom).word == "stopped")
    }

    @Test("a zombie's wait status: exit 3 is 768, SIGKILL is 9 (field 52 of /proc/<pid>/stat)")
    func zombie() {
        #expect(ProcessSample(pid: 1, comm: "a", state: "Z", waitStatus: 768).exitStatus == 3)
        #expect(ProcessSample(pid: 1, comm: "a", state: "Z", waitStatus: 9).exitStatus == nil, "killed by a signal: no exit status")
        #expect(ProcessSample(pid: 1, comm: "a", state: "S", waitStatus: 0).exitStatus == nil)
        // Fields 3 to 52 after the comm: state, ppid, …, starttime (22), …, exit_code (52).
        var fields = [String](repeating: "0", count: 50)
        fields[0] = "Z"; fields[1] = "49"; fields[19] = "777"; fields[49] = "768"
        let line = "50 (aider) " + fields.joined(separator: " ") + "\n"
        #expect(ProcessNode.exitCode(inStat: line) == 768)
        #expect(ProcessNode.parseStat(line)?.startTime == 777)
    }

    @Test("the process table follows children, bounded, and keeps the root's start time")
    func table() throws {
        let procs: [(Int32, Int32, String, String)] = [(10, 1, "sh", "S"), (11, 10, "node", "S"), (12, 11, "codex", "S"), (13, 12, "bash", "S"),
                                                      (14, 13, "deep", "S")]
        let root = try fakeProc(procs)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sample = try #require(ProcessTable(procRoot: root).sample(10))
        #expect(sample.children == ["node"])
        #expect(sample.descendants.map(\.comm) == ["node", "codex", "bash"], "three levels, not the fourth")
        #expect(sample.startTime == 1010)
        var small = ProcessTable(procRoot: root)
        small.maxDescendants = 1
        #expect(small.sample(10)?.descendants.count == 1)
    }

    @Test("the join: a stopped runtime under a wrapper, a pane back at a shell, an exit status, the reported state")
    func join() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let roster = Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 10, agents: [
            AgentSpec(name: "wrapped", runtime: .aider, model: "gpt-x", effort: "high"), AgentSpec(name: "shell", runtime: .claude),
            AgentSpec(name: "quit", runtime: .aider), AgentSpec(name: "busy", runtime: .claude), AgentSpec(name: "unreaped", runtime: .aider),
        ])
        let readings = PlaneReadings(
            panes: [PaneInfo(sessionName: "wrapped", paneId: "%1", pid: 10, currentCommand: "sh"),
                    PaneInfo(sessionName: "shell", paneId: "%2", pid: 20, currentCommand: "bash"),
                    PaneInfo(sessionName: "quit", paneId: "%3", pid: 30, dead: true, deadStatus: 3, currentCommand: "aider"),
                    PaneInfo(sessionName: "busy", paneId: "%4", pid: 40, currentCommand: "node"),
                    PaneInfo(sessionName: "unreaped", paneId: "%5", pid: 50, dead: true, currentCommand: "aider")],
            units: nil, enabledUnits: nil, linger: nil,
            processes: [10: ProcessSample(pid: 10, comm: "sh", state: "S", descendants: [ProcessNode(pid: 11, ppid: 10, comm: "aider", state: "T")]),
                        20: ProcessSample(pid: 20, comm: "bash", state: "S"),
                        40: ProcessSample(pid: 40, comm: "node", state: "S"),
                        50: ProcessSample(pid: 50, comm: "aider", state: "Z", waitStatus: 2 << 8)],
            heartbeats: ["wrapped": Heartbeat(ts: now.addingTimeInterval(-45), pid: 10),
                         "shell": Heartbeat(ts: now.addingTimeInterval(-100), pid: 20, status: "busy"),
                         "busy": Heartbeat(ts: now.addingTimeInterval(-1), pid: 40, status: "waiting", extra: [("waiting", "approval")])])
        let rows = Dictionary(uniqueKeysWithValues: FleetSnapshot.join(roster: roster, readings: readings, now: now).agents.map { ($0.name, $0) })
        let wrapped = try #require(rows["wrapped"])
        #expect(wrapped.runState == .stopped && wrapped.runtimeProcess?.pid == 11 && !wrapped.healthy)
        #expect(wrapped.problems.map(\.sentence).contains("process stopped (aider 11)"))
        #expect(wrapped.driftFlag == false, "a runtime under a wrapper is not drift")
        let shell = try #require(rows["shell"])
        #expect(shell.runState == .notRunning && shell.problems.map(\.sentence).contains("runtime not running (pane runs bash)"))
        #expect(shell.state == nil, "a stale heartbeat's status is not shown as the state")
        let quit = try #require(rows["quit"])
        #expect(quit.runState == .exited && quit.problems.map(\.sentence).contains("exited with status 3"))
        // tmux has not reaped it yet: the status comes from the zombie.
        let unreaped = try #require(rows["unreaped"])
        #expect(unreaped.paneExitStatus == 2 && unreaped.problems.map(\.sentence).contains("exited with status 2"))
        let busy = try #require(rows["busy"])
        #expect(busy.healthy && busy.state == .waiting && busy.waitingFor == .approval && busy.runState == .running)
        let table = SnapshotRenderer.table(FleetSnapshot.join(roster: roster, readings: readings, now: now), width: 200, color: false)
        #expect(table.contains("MODEL") && table.contains("gpt-x/high"))
        #expect(table.contains("waiting/approval"))
        #expect(table.contains("stopped") && table.contains("not-running"))
        let json = try SnapshotRenderer.json(rows["busy"]!).rendered()
        for key in ["\"runState\": \"running\"", "\"state\": \"waiting\"", "\"waitingFor\": \"approval\"", "\"runtimeProcess\": {"] {
            #expect(json.contains(key), "JSON lacks \(key)")
        }
    }
}
