import Foundation
import Testing
@testable import FleetCore

/// The fleet daemon against a real tmux server and the stub runtime, started the way users start
/// it (`fleet up` spawns it detached where no systemd runs) and stopped by `fleet down`. Every
/// claim is read back from the planes (`ps --json`) and from the journal (`fleet events --json`).
@Suite("fleet daemon", .serialized)
struct DaemonTests {
    /// A fleet whose `fleet up` starts the daemon (TestFleet turns it off for everyone else).
    static func fleet(_ names: [String], command: String? = nil, lifecycle: String = "") throws -> TestFleet {
        let fleet = try TestFleet()
        fleet.environment["MOSAIC_DAEMON"] = .some(nil)
        try fleet.writeRoster(agents: TestFleet.stubs(names, command: command), interval: 1, extra: lifecycle)
        return fleet
    }

    @Test("a crashed agent is restarted at once and journaled; a second daemon refuses, naming the first; down stops the daemon and leaves nothing")
    func crashRestart() async throws {
        let fleet = try Self.fleet(["a", "b"])
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        #expect(up.stderr.contains("fleet daemon started (pid"), "\(up.stderr)")
        let daemon = try #require(DaemonProbe.runningPid(fleet.paths))
        #expect(daemon > 0 && kill(daemon, 0) == 0)

        let second = try await fleet.mosaic(["daemon"], timeout: .seconds(20))
        #expect(second.status != 0)
        #expect(second.stderr.contains("\(daemon)"), "the refusal names the running daemon: \(second.stderr)")

        let victim = try #require(try await fleet.row("a")?["panePid"] as? Int)
        let other = try #require(try await fleet.row("b")?["panePid"] as? Int)
        kill(pid_t(victim), SIGKILL)
        try await fleet.waitUntil("the daemon restarts a", timeout: .seconds(15)) {
            guard let row = try await fleet.row("a"), let pid = row["panePid"] as? Int else { return false }
            return pid != victim && row["paneAlive"] as? Bool == true && row["healthy"] as? Bool == true
        }
        #expect(try await fleet.row("b")?["panePid"] as? Int == other, "the healthy neighbour is left alone")
        // The step journals once its starts are done, a moment after the pane is back.
        try await fleet.waitUntil("the exit and the restart are journaled") {
            let kinds = try await fleet.events(["--agent", "a"]).compactMap { $0["kind"] as? String }
            return kinds.contains("agent-exited") && kinds.contains("agent-restarted")
        }
        let exit = try await fleet.events(["--agent", "a", "--kind", "agent-exited"]).first
        #expect((exit?["detail"] as? [String: Any])?["signal"] as? String == "SIGKILL", "\(String(describing: exit))")

        // A send is journaled with its id, verdict and size, never its text.
        let send = try await fleet.mosaic(["agent", "send", "b", "-m", "the secret plan", "--id", "m-42", "--verify"])
        #expect(send.status == 0, "\(send.stdout) \(send.stderr)")
        let sent = try await fleet.events(["--kind", "message-sent"])
        #expect(sent.count == 1)
        let detail = sent.first?["detail"] as? [String: Any]
        #expect(detail?["messageId"] as? String == "m-42" && detail?["verdict"] as? String == "accepted", "\(sent)")
        #expect((detail?["bytes"] as? Int ?? 0) > 0)
        #expect(!(try await fleet.mosaic(["fleet", "events", "--json"]).stdout.contains("secret")), "the text stays out of the journal")

        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stderr.contains("fleet daemon stopped (pid \(daemon))"), "\(down.stderr)")
        #expect(ProcessTable().sample(daemon).map(\.isZombie) ?? true, "the daemon process is gone")
        #expect(DaemonProbe.runningPid(fleet.paths) == nil)
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left)")
        #expect(try await fleet.tmux.listPanes() == nil, "the tmux server is gone")
    }

    @Test("an operator's stop stays: down NAME is never undone, ps keeps it down, the journal names who; up NAME starts it again")
    func operatorStop() async throws {
        let fleet = try Self.fleet(["keep", "halt"])
        try await fleet.mosaic(["fleet", "up"])
        let down = try await fleet.mosaic(["fleet", "down", "halt"])
        #expect(down.status == 0, "\(down.stderr)")
        // Longer than a restart takes (the crash test sees one within a second) and than one tick.
        try await Task.sleep(for: .seconds(6))
        let row = try #require(try await fleet.row("halt"))
        #expect(row["session"] as? String == "missing", "\(row)")
        let life = row["lifecycle"] as? [String: Any]
        #expect(life?["state"] as? String == "stopped-by-user" && life?["reason"] as? String == NSUserName(), "ps says who stopped it: \(row)")
        #expect(try await fleet.row("keep")?["lifecycle"].flatMap { ($0 as? [String: Any])?["state"] as? String } == "running")
        let table = try await fleet.mosaic(["fleet", "ps"]).stdout
        #expect(table.contains("stopped by \(NSUserName())") && table.contains("LIFECYCLE"), "\(table)")
        let stops = try await fleet.events(["--agent", "halt", "--kind", "stopped-by-user"])
        #expect(stops.count == 1)
        #expect(stops.first?["actor"] as? String == NSUserName())
        let all = try await fleet.events(["--agent", "halt"]).compactMap { $0["kind"] as? String }
        #expect(!all.contains("agent-restarted"), "\(all)")

        try await fleet.mosaic(["fleet", "up", "halt"])
        let pid = try #require(try await fleet.row("halt")?["panePid"] as? Int)
        kill(pid_t(pid), SIGKILL)
        try await fleet.waitUntil("after up NAME it is supervised again", timeout: .seconds(15)) {
            guard let row = try await fleet.row("halt") else { return false }
            return row["paneAlive"] as? Bool == true && row["panePid"] as? Int != pid
        }
        try await stopAll(fleet)
    }

    @Test("a runtime that exits at once ends in failed (crash loop) after the configured restarts, not an endless loop; up NAME clears it")
    func crashLoop() async throws {
        let lifecycle = """
        lifecycle:
          backoff: { initial: 100ms, max: 200ms }
          crashLoop: { restarts: 2, window: 1m }

        """
        let fleet = try Self.fleet(["flop"], command: "false", lifecycle: lifecycle)
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("the agent is failed", timeout: .seconds(20)) {
            try await fleet.events(["--agent", "flop", "--kind", "agent-failed"]).count == 1
        }
        let failed = try #require(try await fleet.events(["--agent", "flop", "--kind", "agent-failed"]).first)
        let detail = failed["detail"] as? [String: Any]
        #expect((detail?["message"] as? String)?.contains("crash loop") == true, "\(failed)")
        #expect(detail?["status"] as? Int == 1, "the last exit status is kept: \(failed)")
        let restarts = try await fleet.events(["--agent", "flop", "--kind", "agent-restarted"]).count
        #expect(restarts == 2)
        try await Task.sleep(for: .seconds(3))
        #expect(try await fleet.events(["--agent", "flop", "--kind", "agent-restarted"]).count == restarts, "no restarts once failed")
        let row = try #require(try await fleet.row("flop"))
        let life = try #require(row["lifecycle"] as? [String: Any], "ps shows the daemon's verdict: \(row)")
        #expect(life["state"] as? String == "failed")
        #expect((life["reason"] as? String)?.hasPrefix("crash loop") == true)
        #expect((life["lastExit"] as? [String: Any])?["status"] as? Int == 1)
        let check = try await fleet.mosaic(["fleet", "ps", "--check"])
        #expect(check.status == 3)
        #expect(check.stdout.contains("flop: exited with status 1, no heartbeat, failed (crash loop: more than 2 restarts within 1m), last exit status 1"), "\(check.stdout)")

        try await fleet.mosaic(["fleet", "up", "flop"])
        try await fleet.waitUntil("up NAME cleared it: the daemon restarts it again", timeout: .seconds(20)) {
            try await fleet.events(["--agent", "flop", "--kind", "agent-restarted"]).count > restarts
        }
        try await stopAll(fleet)
    }

    @Test("the tmux server killed: the daemon brings the server and every agent back, and names the mass death")
    func serverDeath() async throws {
        let fleet = try Self.fleet(["s1", "s2", "s3"])
        try await fleet.mosaic(["fleet", "up"])
        let before = try await fleet.serverPid()
        try await fleet.tmux.killServer()
        try await fleet.waitUntil("every agent is back and healthy", timeout: .seconds(30)) {
            let rows = try await fleet.ps().filter { $0["kind"] as? String == "agent" }
            return rows.count == 3 && rows.allSatisfy { $0["healthy"] as? Bool == true }
        }
        #expect(try await fleet.serverPid() != before)
        let mass = try await fleet.events(["--kind", "mass-death"])
        #expect(mass.count == 1, "\(mass)")
        #expect((mass.first?["detail"] as? [String: Any])?["message"] as? String == "3 of 3 agents died: the tmux server went away")
        let sessions = try await fleet.tmux.listPanes()?.map(\.sessionName) ?? []
        #expect(sessions.sorted() == ["_holder", "s1", "s2", "s3"], "one session each, no duplicates: \(sessions)")
        try await stopAll(fleet)
    }

    @Test("a daemon SIGKILLed in the middle of a paced recovery and started again finishes it: every agent back, no duplicate session")
    func killMidRecovery() async throws {
        let lifecycle = """
        lifecycle:
          maxConcurrentStarts: 1

        """
        let fleet = try Self.fleet(["m1", "m2", "m3", "m4"], lifecycle: lifecycle)
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("the fleet is healthy", timeout: .seconds(20)) {
            try await fleet.ps().filter { $0["kind"] as? String == "agent" }.allSatisfy { $0["healthy"] as? Bool == true }
        }
        let first = try #require(DaemonProbe.runningPid(fleet.paths))
        try await fleet.tmux.killServer()
        // One start in flight at a time: kill the daemon once the first agent is back, the rest not yet.
        try await fleet.waitUntil("the recovery has begun", timeout: .seconds(20)) {
            let sessions = try await fleet.tmux.listPanes()?.map(\.sessionName) ?? []
            return sessions.contains { $0.hasPrefix("m") }
        }
        kill(first, SIGKILL)
        try await fleet.waitUntil("the lock is free") { DaemonProbe.runningPid(fleet.paths) == nil }
        // Started by hand, not by `fleet up` (which would start the missing agents itself).
        let daemon = try ChildProcess(Invocation(fleet.binary, ["daemon", "--home", fleet.home], environment: fleet.environment), stdout: .null)
        defer { daemon.stop(grace: 5) }
        try await fleet.waitUntil("every agent is back and healthy", timeout: .seconds(30)) {
            let rows = try await fleet.ps().filter { $0["kind"] as? String == "agent" }
            return rows.count == 4 && rows.allSatisfy { $0["healthy"] as? Bool == true }
        }
        try await Task.sleep(for: .seconds(2))
        let sessions = try await fleet.tmux.listPanes()?.map(\.sessionName).sorted() ?? []
        #expect(sessions == ["_holder", "m1", "m2", "m3", "m4"], "one session each: \(sessions)")
        try await stopAll(fleet)
    }

    @Test("a hung agent (one heartbeat, then silence while its pane lives) gets a hung event; with onHang: restart it is replaced, its neighbour only reported")
    func hung() async throws {
        // tmux continues a SIGSTOPped pane process at once (see the aider tests), so the hang is a
        // runtime that beats once and then never again while its process lives on.
        let hang = "sh -c 'mosaic agent heartbeat; exec sleep 86400'"
        let agents = """
          - name: fix
            runtime: custom
            command: "\(hang)"
            onHang: restart
          - name: tell
            runtime: custom
            command: "\(hang)"

        """
        let fleet = try TestFleet()
        fleet.environment["MOSAIC_DAEMON"] = .some(nil)
        try fleet.writeRoster(agents: agents, interval: 1)
        try await fleet.mosaic(["fleet", "up"])
        let fix = try #require(try await fleet.row("fix")?["panePid"] as? Int)
        let tell = try #require(try await fleet.row("tell")?["panePid"] as? Int)
        try await fleet.waitUntil("both are reported hung", timeout: .seconds(30)) {
            Set(try await fleet.events(["--kind", "agent-hung"]).compactMap { $0["agent"] as? String }) == ["fix", "tell"]
        }
        let reason = try await fleet.events(["--kind", "agent-hung", "--agent", "tell"]).first
        #expect((reason?["detail"] as? [String: Any])?["message"] as? String == "heartbeat-stale", "\(String(describing: reason))")
        try await fleet.waitUntil("fix is replaced by a new pane", timeout: .seconds(30)) {
            try await fleet.row("fix")?["panePid"] as? Int != fix
        }
        #expect(try await fleet.events(["--kind", "agent-restarted", "--agent", "fix"]).count >= 1)
        #expect(try await fleet.row("tell")?["panePid"] as? Int == tell, "onHang: notify (the default) only reports")
        #expect(try await fleet.events(["--kind", "agent-restarted", "--agent", "tell"]).isEmpty)
        try await stopAll(fleet)
    }

    @Test("a daemon killed with SIGKILL and started again adopts the fleet exactly as it was")
    func adoptAfterKill() async throws {
        let fleet = try Self.fleet(["x", "y"])
        try await fleet.mosaic(["fleet", "up"])
        let first = try #require(DaemonProbe.runningPid(fleet.paths))
        let panes = try await fleet.tmux.listPanes() ?? []
        kill(first, SIGKILL)
        try await fleet.waitUntil("the lock is free") { DaemonProbe.runningPid(fleet.paths) == nil }

        // Started by hand this time, in the foreground of a child we own.
        var environment = fleet.environment
        environment["NOTIFY_SOCKET"] = nil
        let daemon = try ChildProcess(Invocation(fleet.binary, ["daemon", "--home", fleet.home], environment: environment), stdout: .null)
        defer { daemon.stop(grace: 5) }
        try await fleet.waitUntil("the new daemon adopted the fleet", timeout: .seconds(15)) {
            try await fleet.events(["--kind", "daemon-adopted"]).count == 2
        }
        let adopted = try await fleet.events(["--kind", "daemon-adopted"]).last
        #expect((adopted?["detail"] as? [String: Any])?["message"] as? String == "2 of 2 agents running")
        try await Task.sleep(for: .seconds(2))
        let after = try await fleet.tmux.listPanes() ?? []
        #expect(after.map(\.pid) == panes.map(\.pid), "no agent was started, stopped or replaced")
        #expect(after.map(\.sessionName) == panes.map(\.sessionName))
        try await stopAll(fleet)
    }

    @Test("fleet events --follow streams a new event as it happens, through the daemon's socket")
    func follow() async throws {
        let fleet = try Self.fleet(["f"])
        try await fleet.mosaic(["fleet", "up"])
        try await expectFollowSeesAKill(fleet, agent: "f")
        try await stopAll(fleet)
    }

    /// A user's inotify instances run out with a big fleet (128 by default; every agent's heartbeat
    /// responder holds one). The daemon is started here in a user namespace of its own whose limit
    /// is 0, which leaves the rest of the machine's tests their instances: its journal watch must
    /// fall back to looking at the files, and `--follow` must still get every event live.
    @Test("with no inotify instance left, the daemon's journal is polled: --follow still streams the events as they happen")
    func followWithoutInotify() async throws {
        let fleet = try TestFleet()   // MOSAIC_DAEMON=off: `fleet up` leaves the daemon to this test
        try fleet.writeRoster(agents: TestFleet.stubs(["f"]), interval: 1)
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        var environment = fleet.environment
        environment["MOSAIC_DAEMON"] = .some(nil)
        let script = "echo 0 > /proc/sys/user/max_inotify_instances && exec \"$0\" daemon --interval 1"
        let log = try TestFleet.makeTempDirectory("daemon-ns") + "/log"
        defer { try? FileManager.default.removeItem(atPath: (log as NSString).deletingLastPathComponent) }
        let daemon = try ChildProcess(Invocation("unshare", ["-U", "-r", "sh", "-c", script, fleet.binary], environment: environment),
                                      stdout: .file(log), stderr: .file(log))
        defer { daemon.stop(grace: 5) }
        try await fleet.waitUntil("the daemon in its namespace serves", timeout: .seconds(20)) {
            DaemonProbe.runningPid(fleet.paths) != nil && FileManager.default.fileExists(atPath: fleet.paths.daemonSocket)
                && FileManager.default.fileExists(atPath: fleet.paths.lifecycleReport)
        }
        #expect(!(FileIO.readSmall(log, limit: 1 << 20) ?? "").contains("gets no live events"), "\(FileIO.readSmall(log, limit: 1 << 20) ?? "")")

        try await expectFollowSeesAKill(fleet, agent: "f")
        #expect((FileIO.readSmall(log, limit: 1 << 20) ?? "").contains("polled"), "the daemon says its journal is polled")
    }

    /// `fleet events --follow` runs while `agent` is killed: the daemon's agent-exited event reaches
    /// it live, and it keeps following.
    func expectFollowSeesAKill(_ fleet: TestFleet, agent: String) async throws {
        let output = try TestFleet.makeTempDirectory("follow") + "/out"
        defer { try? FileManager.default.removeItem(atPath: (output as NSString).deletingLastPathComponent) }
        let follower = try ChildProcess(Invocation(fleet.binary, ["fleet", "events", "--follow", "--json", "--since", "1s"],
                                                   environment: fleet.environment), stdout: .file(output))
        defer { follower.stop(grace: 1) }
        try await Task.sleep(for: .milliseconds(500))
        let pid = try #require(try await fleet.row(agent)?["panePid"] as? Int)
        kill(pid_t(pid), SIGKILL)
        try await fleet.waitUntil("the exit reaches the follower", timeout: .seconds(15)) {
            (FileIO.readSmall(output, limit: 1 << 20) ?? "").split(separator: "\n").contains { line in
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return object?["kind"] as? String == "agent-exited" && object?["agent"] as? String == agent
            }
        }
        #expect(follower.isRunning, "--follow keeps following")
    }

    /// `fleet down`, which stops the daemon too; then nothing of the fleet runs.
    func stopAll(_ fleet: TestFleet) async throws {
        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(DaemonProbe.runningPid(fleet.paths) == nil, "the daemon is stopped")
    }
}
