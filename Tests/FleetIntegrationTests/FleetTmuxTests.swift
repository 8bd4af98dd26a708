import Foundation
import Testing
@testable import FleetCore

/// The fleet on a real tmux server (private socket), without systemd.
@Suite("fleet on a real tmux server", .serialized)
struct FleetTmuxTests {
    @Test("up starts every agent with its identity in the session environment, and ps shows them healthy")
    func upAndPs() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["alpha", "beta"]))
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stderr)")
        try await fleet.waitUntil("both heartbeats exist") {
            fleet.store.read("alpha") != nil && fleet.store.read("beta") != nil
        }
        let rows = try await fleet.ps()
        #expect(rows.count == 2)
        for row in rows {
            #expect(row["tenant_id"] as? String == "testers")
            #expect(row["host"] as? String == "test-host")
            #expect(row["paneAlive"] as? Bool == true)
            #expect(row["paneCommand"] as? String == "mosaic")
            #expect(row["driftFlag"] as? Bool == false)
            #expect(row["systemdActive"] is NSNull, "no systemd: null, never a made-up value")
            #expect((row["heartbeat"] as? [String: Any])?["health"] as? String == "healthy")
            #expect(row["healthy"] as? Bool == true)
        }
        let env = try await fleet.tmux.run(["show-environment", "-t", "=alpha"]).stdout
        for line in ["MOSAIC_AGENT_NAME=alpha", "MOSAIC_TENANT_ID=testers", "MOSAIC_HOST=test-host",
                     "MOSAIC_HOME=\(fleet.home)", "MOSAIC_HEARTBEAT_INTERVAL=15"] {
            #expect(env.contains(line), "session environment lacks \(line)")
        }
        // The window must not follow a client's size (watchers): per-window manual sizing.
        let size = try await fleet.tmux.run(["show-options", "-w", "-v", "-t", "=alpha:", "window-size"]).stdout
        #expect(size.trimmingCharacters(in: .whitespacesAndNewlines) == "manual")
        let check = try await fleet.mosaic(["fleet", "ps", "--check"])
        #expect(check.status == 0, "\(check.stdout)")
    }

    @Test("up is idempotent: a running agent is left alone and reported as already running")
    func upTwice() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["solo"]))
        try await fleet.mosaic(["fleet", "up"])
        let before = try await fleet.row("solo")?["panePid"] as? Int
        let again = try await fleet.mosaic(["fleet", "up", "--json"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("\"already-running\""))
        #expect(try await fleet.row("solo")?["panePid"] as? Int == before)
    }

    @Test("killing an agent's process flips its row to dead at once; --check then exits 3")
    func killPane() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["victim", "bystander"]))
        try await fleet.mosaic(["fleet", "up"])
        let pid = try #require(try await fleet.row("victim")?["panePid"] as? Int)
        kill(pid_t(pid), SIGKILL)
        try await fleet.waitUntil("the pane is dead") { try await fleet.row("victim")?["paneAlive"] as? Bool == false }
        let row = try #require(try await fleet.row("victim"))
        #expect(row["session"] as? String == "dead")
        #expect(row["healthy"] as? Bool == false)
        #expect(try await fleet.row("bystander")?["paneAlive"] as? Bool == true)
        let check = try await fleet.mosaic(["fleet", "ps", "--check"])
        #expect(check.status == 3)
    }

    @Test("a heartbeat that stops goes stale within 3 intervals, and a stopped agent does not answer a probe")
    func staleAndProbe() async throws {
        let fleet = try TestFleet()
        // tmux at once sends SIGCONT to a pane's root process that stops (server_child_stopped), so
        // the stub runs as a child of the pane's shell here, where SIGSTOP sticks.
        try fleet.writeRoster(agents: """
              - name: sleepy
                runtime: custom
                command: "sh -c 'mosaic agent stub; exit 0'"
            """ + "\n" + TestFleet.stubs(["awake"]), interval: 1)
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("heartbeats exist") { fleet.store.read("sleepy") != nil && fleet.store.read("awake") != nil }
        let probed = try await fleet.ps(["--probe"])
        for row in probed {
            let probe = try #require(row["probe"] as? [String: Any])
            #expect(probe["answered"] as? Bool == true)
            #expect(probe["latencyMs"] is Int)
        }
        let stubPid = try #require(fleet.store.read("sleepy")?.pid)
        kill(stubPid, SIGSTOP)
        defer { kill(stubPid, SIGCONT) }
        try await fleet.waitUntil("the heartbeat is stale", timeout: .seconds(10)) {
            (try await fleet.row("sleepy")?["heartbeat"] as? [String: Any])?["health"] as? String == "stale"
        }
        // Stale exactly when the last beat is older than 3 intervals (the rule is pinned in JoinTests).
        let age = try #require((try await fleet.row("sleepy")?["heartbeat"] as? [String: Any])?["ageMs"] as? Int)
        #expect(age > 3000)
        let rows = try await fleet.ps(["--probe", "--probe-timeout", "0.5"])
        let sleepy = try #require(rows.first { $0["name"] as? String == "sleepy" })
        #expect((sleepy["probe"] as? [String: Any])?["answered"] as? Bool == false)
        #expect(sleepy["healthy"] as? Bool == false)
        #expect(sleepy["paneAlive"] as? Bool == true, "the pane is alive: liveness of a pane is not health")
        let awake = try #require(rows.first { $0["name"] as? String == "awake" })
        #expect((awake["probe"] as? [String: Any])?["answered"] as? Bool == true)
        // Probe requests are cleaned up afterwards.
        #expect(!FileManager.default.fileExists(atPath: fleet.store.probePath("awake")))
        // The unanswered one is journaled, the answered one is not.
        let journaled = try await fleet.events(["--kind", "probe-failed"])
        #expect(journaled.compactMap { $0["agent"] as? String } == ["sleepy"], "\(journaled)")
    }

    @Test("an answer that does not echo the nonce is not an answer")
    func wrongNonce() async throws {
        let fleet = try TestFleet()
        // `cat` never answers probes; we write heartbeats by hand with a wrong nonce.
        try fleet.writeRoster(agents: "  - name: mute\n    runtime: custom\n    command: \"cat\"\n", interval: 5)
        try await fleet.mosaic(["fleet", "up"])
        try fleet.store.write(Heartbeat(ts: Date(), pid: 1, nonce: "not-the-nonce"), for: "mute")
        let row = try #require(try await fleet.ps(["--probe", "--probe-timeout", "0.3"]).first)
        #expect((row["probe"] as? [String: Any])?["answered"] as? Bool == false)
        #expect(row["healthy"] as? Bool == false)
        #expect((row["heartbeat"] as? [String: Any])?["health"] as? String == "healthy",
                "the file is fresh; only the probe failed")
    }

    @Test("drift: a roster that says pi while the pane runs the stub is flagged")
    func drift() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["canary"], runtime: "pi", command: "mosaic agent stub")
                              + TestFleet.stubs(["honest"]))
        try await fleet.mosaic(["fleet", "up"])
        #expect(try await fleet.row("canary")?["driftFlag"] as? Bool == true)
        #expect(try await fleet.row("honest")?["driftFlag"] as? Bool == false)
        let table = try await fleet.mosaic(["fleet", "ps"]).stdout
        #expect(table.contains("DRIFT(mosaic)"))
        let canaryLine = try #require(table.split(separator: "\n").first { $0.hasPrefix("canary") })
        #expect(canaryLine.contains(" alive "), "the canary's pane is alive; its drift is a flag: \(canaryLine)")
    }

    @Test("sessions the roster does not name are listed as strays; down keeps the server for them")
    func strays() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["member"]))
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.tmux.newSessions([NewSession(name: "interloper", command: .argv(["sleep", "300"]))])
        let rows = try await fleet.ps()
        let stray = try #require(rows.first { $0["kind"] as? String == "stray" })
        #expect(stray["name"] as? String == "interloper")
        #expect(stray["tenant_id"] as? String == "testers")
        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0)
        #expect(down.stderr.contains("interloper"))
        #expect(try await fleet.tmux.hasSession("interloper"))
        #expect(try await !fleet.tmux.hasSession("member"))
    }

    @Test("down leaves nothing behind: no sessions, no server, no heartbeat or temp files")
    func downCleans() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["a1", "a2", "a3"]))
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("heartbeats exist") { fleet.store.read("a3") != nil }
        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(try await fleet.tmux.listPanes() == nil, "the tmux server is gone")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/tmux-\(getuid())/\(fleet.socket)"), "and so is its socket file")
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left)")
    }

    @Test("down of one agent leaves the others and the server running")
    func downOne() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["keep", "drop"]))
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.mosaic(["fleet", "down", "drop"])
        #expect(try await fleet.tmux.hasSession("keep"))
        #expect(try await !fleet.tmux.hasSession("drop"))
        #expect(try await fleet.row("drop")?["session"] as? String == "missing")
        #expect(try await fleet.row("keep")?["healthy"] as? Bool == true)
    }

    @Test("a bad roster is refused with file and line, and nothing is started")
    func badRoster() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["fine"]) + "  - name: \"bad;name\"\n    runtime: stub\n")
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 65)
        #expect(up.stderr.contains("roster.yaml:"))
        #expect(up.stderr.contains("bad;name"))
        #expect(try await fleet.tmux.listPanes() == nil, "no server was started")
    }

    @Test("a runtime whose binary cannot be found is refused at up, saying where it looked")
    func runtimeMissing() async throws {
        let fleet = try TestFleet()
        fleet.environment["MOSAIC_RUNTIME_BIN"] = "/nonexistent-bin"
        fleet.environment["PATH"] = "/usr/bin:/bin"
        fleet.environment["HOME"] = fleet.home
        try fleet.writeRoster(agents: "  - name: needs-codex\n    runtime: codex\n")
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 69)
        #expect(up.stderr.contains("\"codex\" not found"))
        #expect(up.stderr.contains("/nonexistent-bin"))
        #expect(try await fleet.tmux.listPanes() == nil)
    }

    @Test("a command that exits at once is reported with its status and last output")
    func exitsAtOnce() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: "  - name: crasher\n    runtime: custom\n    command: \"sh -c 'echo boom-output; exit 7'\"\n")
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 1)
        #expect(up.stdout.contains("status 7"))
        #expect(up.stdout.contains("boom-output"))
    }

    @Test("a runtime that dies later: ps names its exit status or the signal, and its last output")
    func diesLater() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: """
              - name: failer
                runtime: custom
                command: "sh -c 'sleep 1; echo Error: the API key was refused; exit 2'"
              - name: killed
                runtime: custom
                command: "sh -c 'echo about to be killed; sleep 1; kill -9 $$'"

            """)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "both run past fleet up's first look: \(up.stdout)")
        try await fleet.waitUntil("both panes are dead", timeout: .seconds(10)) {
            let failer = try await fleet.row("failer"), killed = try await fleet.row("killed")
            return failer?["session"] as? String == "dead" && killed?["session"] as? String == "dead"
        }
        try await fleet.waitUntil("the status and the signal are known", timeout: .seconds(5)) {
            let failer = try await fleet.row("failer"), killed = try await fleet.row("killed")
            return failer?["paneExitStatus"] as? Int == 2 && killed?["paneExitSignal"] as? Int == 9
        }
        let failer = try #require(try await fleet.row("failer"))
        #expect(failer["lastOutput"] as? [String] == ["Error: the API key was refused"], "\(failer)")
        #expect((failer["problems"] as? [String] ?? []).contains("last output: Error: the API key was refused"), "\(failer)")
        let killed = try #require(try await fleet.row("killed"))
        #expect((killed["problems"] as? [String] ?? []).contains("killed by SIGKILL"), "\(killed)")
        #expect(killed["lastOutput"] as? [String] == ["about to be killed"], "\(killed)")
        let table = try await fleet.mosaic(["fleet", "ps"]).stdout
        #expect(table.contains("dead(2)") && table.contains("dead(SIGKILL)"), "\(table)")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }
}
