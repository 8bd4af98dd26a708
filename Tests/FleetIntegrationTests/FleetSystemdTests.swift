import Foundation
import Testing
@testable import FleetCore

/// The fleet under a real systemd user manager: a private one per test (UserManager), never the
/// user's own, with its own unit directory; each test's tmux socket is private too.
@Suite("fleet under a real systemd user manager", .serialized,
       .enabled("a systemd user manager must be able to start here (the reason is printed if not)") { UserManager.canStart })
struct FleetSystemdTests {
    @Test("init installs the units (twice is harmless) and --enable enables the holder and every agent")
    func initAndEnable() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["alpha", "beta"]))
            let first = try await fleet.json(["fleet", "init", "--json"])
            #expect(first["systemd"] as? Bool == true)
            #expect(first["unitsWritten"] as? [String] == ["mosaic-agent@.service", "mosaic-daemon.service", "mosaic-holder.service"])
            #expect(first["unitsEnabled"] as? [String] == [])
            let again = try await fleet.json(["fleet", "init", "--json"])
            #expect(again["unitsWritten"] as? [String] == [], "installing twice writes nothing")

            let units = ["mosaic-holder.service", "mosaic-daemon.service", "mosaic-agent@alpha.service", "mosaic-agent@beta.service"]
            #expect(try await manager.isEnabled(units) == ["disabled", "disabled", "disabled", "disabled"])
            let enable = try await fleet.json(["fleet", "init", "--enable", "--json"])
            #expect(Set(enable["unitsEnabled"] as? [String] ?? []) == Set(units))
            #expect(try await manager.isEnabled(units) == ["enabled", "enabled", "enabled", "enabled"], "systemd agrees")
            #expect(try UnitInstaller.enabledUnits(in: manager.unitDirectory) == Set(units), "read from default.target.wants")
            let enableAgain = try await fleet.json(["fleet", "init", "--enable", "--json"])
            #expect(enableAgain["unitsEnabled"] as? [String] == [])

            for row in try await fleet.ps() {
                #expect(row["systemdEnabled"] as? Bool == true)
                #expect(row["systemdActive"] as? Bool == false)
                #expect(row["bootEnableWarning"] as? Bool == false, "nothing runs, so nothing is at risk")
            }
        }
    }

    @Test("up goes through the units; ps shows them active, and BOOT-ENABLE until they are enabled")
    func upThroughUnits() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["alpha", "beta"]))
            try await fleet.mosaic(["fleet", "init"])
            let up = try await fleet.mosaic(["fleet", "up", "--json"])
            #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
            #expect(up.stdout.components(separatedBy: "\"started\"").count == 3)
            #expect(up.stdout.contains("\"systemd\""))
            let units = try await manager.units()
            #expect(units["mosaic-holder.service"].map { "\($0.active)/\($0.sub)" } == "active/running")
            #expect(units["mosaic-agent@alpha.service"].map { "\($0.active)/\($0.sub)" } == "active/exited")
            try await fleet.waitUntil("both heartbeats exist") { fleet.store.read("alpha") != nil && fleet.store.read("beta") != nil }

            let row = try #require(try await fleet.row("alpha"))
            #expect(row["systemdActive"] as? Bool == true)
            #expect(row["systemdEnabled"] as? Bool == false)
            #expect(row["bootEnableWarning"] as? Bool == true)
            #expect((row["problems"] as? [String])?.contains("not enabled at boot") == true)
            #expect(row["paneAlive"] as? Bool == true)
            #expect(try await fleet.mosaic(["fleet", "ps"]).stdout.contains("BOOT-ENABLE"))
            // The runtime lives in the holder's cgroup: stopping an agent unit cannot reach it,
            // and the unit's Environment= gave the session its identity.
            let pid = try #require(row["panePid"] as? Int)
            #expect(try cgroup(of: pid).contains("/mosaic-holder.service"))
            let env = try await fleet.tmux.run(["show-environment", "-t", "=alpha"]).stdout
            #expect(env.contains("MOSAIC_HOME=\(fleet.home)\n") && env.contains("MOSAIC_AGENT_NAME=alpha\n"))

            let lingerOn = try await fleet.json(["fleet", "init", "--enable", "--json"])["linger"] as? Bool
            let enabled = try #require(try await fleet.row("alpha"))
            #expect(enabled["systemdEnabled"] as? Bool == true)
            #expect(enabled["bootEnableWarning"] as? Bool == (lingerOn == false), "only linger can still keep it from booting")

            let again = try await fleet.mosaic(["fleet", "up", "--json"])
            #expect(again.status == 0)
            #expect(again.stdout.components(separatedBy: "\"already-running\"").count == 3)
            #expect(try await fleet.row("alpha")?["panePid"] as? Int == pid)
        }
    }

    @Test("stopping one agent, by mosaic or by systemctl, leaves the others and the tmux server")
    func downOne() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["keep", "drop", "other"]))
            try await fleet.mosaic(["fleet", "up"])
            try await fleet.waitUntil("heartbeats exist") { ["keep", "drop", "other"].allSatisfy { fleet.store.read($0) != nil } }
            let server = try await fleet.serverPid()
            let keepPid = try await fleet.row("keep")?["panePid"] as? Int

            let down = try await fleet.mosaic(["fleet", "down", "drop"])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(try await manager.units()["mosaic-agent@drop.service"]?.isActive != true)
            #expect(try await !fleet.tmux.hasSession("drop"))
            #expect(fleet.store.read("drop") == nil, "its heartbeat is removed")
            #expect(try await fleet.serverPid() == server)
            #expect(try await fleet.row("keep")?["panePid"] as? Int == keepPid)
            #expect(try await fleet.row("other")?["paneAlive"] as? Bool == true)

            // Straight through systemd, with the unit's default KillMode: still only its session.
            try await manager.systemctl.stop(["mosaic-agent@other.service"])
            #expect(try await !fleet.tmux.hasSession("other"))
            #expect(try await fleet.serverPid() == server)
            #expect(try await fleet.row("keep")?["panePid"] as? Int == keepPid)
            #expect(try await manager.units()["mosaic-holder.service"]?.isActive == true)
        }
    }

    @Test("down leaves nothing: no active mosaic unit, no tmux server, no heartbeat file")
    func downAll() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["a1", "a2", "a3"]))
            try await fleet.mosaic(["fleet", "init", "--enable"])
            try await fleet.mosaic(["fleet", "up"])
            try await fleet.waitUntil("heartbeats exist") { ["a1", "a2", "a3"].allSatisfy { fleet.store.read($0) != nil } }
            let down = try await fleet.mosaic(["fleet", "down"])
            #expect(down.status == 0, "\(down.stderr)")
            let active = try await manager.units().values.filter(\.isActive).map(\.name)
            #expect(active.isEmpty, "still active: \(active)")
            #expect(try await fleet.tmux.listPanes() == nil, "the tmux server is gone")
            let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
            #expect(left.isEmpty, "run directory still holds \(left)")
            #expect(try UnitInstaller.enabledUnits(in: manager.unitDirectory).count == 5, "down does not disable (holder, daemon, 3 agents)")
        }
    }

    @Test("restart replaces the agents' processes and keeps the tmux server")
    func restart() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["one", "two"]))
            try await fleet.mosaic(["fleet", "up"])
            let server = try await fleet.serverPid()
            let one = try await fleet.row("one")?["panePid"] as? Int
            let two = try await fleet.row("two")?["panePid"] as? Int
            let single = try await fleet.mosaic(["fleet", "restart", "one", "--json"])
            #expect(single.status == 0, "\(single.stderr)")
            #expect(single.stdout.contains("\"restarted\""))
            #expect(try await fleet.row("one")?["panePid"] as? Int != one)
            #expect(try await fleet.row("two")?["panePid"] as? Int == two)
            let all = try await fleet.mosaic(["fleet", "restart"])
            #expect(all.status == 0, "\(all.stderr)")
            #expect(try await fleet.row("two")?["panePid"] as? Int != two)
            #expect(try await fleet.serverPid() == server)
            #expect(try await manager.units()["mosaic-agent@two.service"]?.isActive == true)
        }
    }

    @Test("the holder's server going away is noticed: the agent units stop with it, and up brings the fleet back")
    func holderDeath() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["a", "b"]))
            try await fleet.mosaic(["fleet", "up"])
            try await fleet.tmux.killServer()
            // Fully stopped, not just "deactivating": the units' stop (which removes the heartbeat) has run.
            try await fleet.waitUntil("the agent units stop with the server (BindsTo)") {
                // The daemon's unit is not bound to the holder: it outlives the server, to bring it back.
                try await manager.units().values.filter { $0.name.hasPrefix("mosaic-agent@") }
                    .allSatisfy { $0.active == "inactive" || $0.active == "failed" }
            }
            let row = try #require(try await fleet.row("a"))
            #expect(row["systemdActive"] as? Bool == false)
            #expect(row["session"] as? String == "no-server")
            #expect(fleet.store.read("a") == nil, "the unit's ExecStop removed the heartbeat")
            let up = try await fleet.mosaic(["fleet", "up"])
            #expect(up.status == 0, "\(up.stdout) \(up.stderr)")

            // A crash: systemd restarts the server (Restart=on-failure). The bound agent units are
            // either stopped with it or restarted into the new server (a race in systemd 252 on
            // whether the panes had exited); never left "active" without a pane.
            let pid = try #require(try await fleet.row("a")?["panePid"] as? Int)
            let crashed = try await fleet.serverPid()
            kill(pid_t(crashed), SIGKILL)
            try await fleet.waitUntil("systemd restarts the server", timeout: .seconds(20)) {
                guard try await manager.units()["mosaic-holder.service"]?.sub == "running" else { return false }
                guard try await fleet.tmux.listPanes() != nil else { return false }
                return try await fleet.serverPid() != crashed
            }
            try await fleet.waitUntil("every agent unit agrees with its pane") {
                try await fleet.ps().allSatisfy { ($0["systemdActive"] as? Bool) == ($0["paneAlive"] as? Bool ?? false) }
            }
            let again = try await fleet.mosaic(["fleet", "up"])
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
            for row in try await fleet.ps() {
                #expect(row["paneAlive"] as? Bool == true && row["systemdActive"] as? Bool == true)
            }
            #expect(try await fleet.row("a")?["panePid"] as? Int != pid)
        }
    }

    @Test("verify names each systemd problem with its fix and exits 3; once enabled only linger can remain")
    func verify() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            // The daemon too: `fleet up` starts its unit (Type=notify), and verify checks it runs.
            fleet.environment["MOSAIC_DAEMON"] = .some(nil)
            try fleet.writeRoster(agents: TestFleet.stubs(["alpha"]))
            let missing = try await fleet.mosaic(["fleet", "verify"])
            #expect(missing.status == 3)
            try await fleet.mosaic(["fleet", "init"])
            try await fleet.mosaic(["fleet", "up"])
            let notEnabled = try await fleet.mosaic(["fleet", "verify"])
            #expect(notEnabled.status == 3)
            #expect(notEnabled.stdout.contains("PROBLEM enabled: not enabled at boot: mosaic-holder.service, mosaic-daemon.service, mosaic-agent@alpha.service"))
            #expect(notEnabled.stdout.contains("fix: run `mosaic fleet init --enable`"))
            #expect(notEnabled.stdout.contains("ok      holder unit: mosaic-holder.service is active/running"))
            #expect(try await manager.units()["mosaic-daemon.service"]?.sub == "running", "fleet up started the daemon's unit")
            #expect(notEnabled.stdout.contains("ok      daemon: the fleet daemon runs (pid "), "\(notEnabled.stdout)")

            let lingerOn = try await fleet.json(["fleet", "init", "--enable", "--json"])["linger"] as? Bool
            let fixed = try await fleet.mosaic(["fleet", "verify"])
            let problems = fixed.stdout.split(separator: "\n").filter { $0.hasPrefix("PROBLEM") }
            if lingerOn == true {
                #expect(fixed.status == 0, "\(fixed.stdout)")
                #expect(problems.isEmpty)
            } else {
                // Honest: with linger off nothing starts this user's manager at boot, so the fleet
                // does not come back; that stays a problem until `loginctl enable-linger`.
                #expect(fixed.status == 3)
                #expect(problems.count == 1 && problems[0].hasPrefix("PROBLEM linger: linger is off"), "\(fixed.stdout)")
                #expect(fixed.stdout.contains("fix: run `loginctl enable-linger "))
            }
        }
    }

    @Test("a tmux server started without systemd is refused by up, flagged by verify, and cleared by down")
    func unmanagedServer() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["solo"]))
            try await fleet.mosaic(["fleet", "init"])
            fleet.environment["MOSAIC_SYSTEMD"] = "off"
            try await fleet.mosaic(["fleet", "up"])
            fleet.environment["MOSAIC_SYSTEMD"] = .some(nil)
            let up = try await fleet.mosaic(["fleet", "up"])
            #expect(up.status == 1)
            #expect(up.stderr.contains("does not run already answers on socket"), "\(up.stderr)")
            let verify = try await fleet.mosaic(["fleet", "verify"])
            #expect(verify.stdout.contains("PROBLEM holder unit: the tmux server on socket"))
            let down = try await fleet.mosaic(["fleet", "down"])
            #expect(down.status == 0, "\(down.stderr)")
            let again = try await fleet.mosaic(["fleet", "up", "--json"])
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
            #expect(try await manager.units()["mosaic-holder.service"]?.isActive == true)
        }
    }

    @Test("a home whose path holds a space, % and $ survives the unit files")
    func oddHome() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            let home = fleet.home + "/odd home %i $USER"
            fleet.environment["MOSAIC_HOME"] = home
            try FileIO.makeDirectory(home + "/fleet", mode: 0o755)
            try FileIO.writeAtomically("version: 1\ntmux:\n  socketName: \(fleet.socket)\nagents:\n" + TestFleet.stubs(["odd"]),
                                       to: home + "/fleet/roster.yaml")
            try await fleet.mosaic(["fleet", "init", "--enable"])
            let up = try await fleet.mosaic(["fleet", "up"])
            #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
            let env = try await fleet.tmux.run(["show-environment", "-t", "=odd"]).stdout
            #expect(env.contains("MOSAIC_HOME=\(home)\n"))
            try await fleet.waitUntil("the heartbeat lands in the odd home") {
                FileManager.default.fileExists(atPath: home + "/fleet/run/odd.hb")
            }
            #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
        }
    }

    @Test("an agent unit finds a runtime on the PATH of the shell that ran up, not only the manager's")
    func pathFromShell() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            let bin = fleet.home + "/bin"
            try FileIO.makeDirectory(bin, mode: 0o755)
            // A stand-in `codex` that runs the stub, found only through MOSAIC_RUNTIME_BIN in this shell.
            // Written close-on-exec: a descriptor open for writing that a child forked meanwhile by
            // another test inherits makes exec fail with ETXTBSY (Text file busy) for as long as it lives.
            try FileIO.writeAtomically("#!/bin/sh\nexec mosaic agent stub\n", to: bin + "/codex", mode: 0o755)
            fleet.environment["MOSAIC_RUNTIME_BIN"] = bin
            try fleet.writeRoster(agents: "  - name: coder\n    runtime: codex\n")
            let up = try await fleet.mosaic(["fleet", "up"])
            #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
            #expect(FileIO.readSmall(fleet.paths.unitEnvironmentFile)?.contains(bin + ":") == true)
            #expect(try await fleet.row("coder")?["paneAlive"] as? Bool == true)
        }
    }

    @Test("a unit that cannot start fails that agent alone, at once, with systemd's reason")
    func maskedUnit() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            try fleet.writeRoster(agents: TestFleet.stubs(["fine", "masked"]))
            try await fleet.mosaic(["fleet", "init"])
            try await manager.systemctl.run(["mask", "mosaic-agent@masked.service"])
            let clock = ContinuousClock()
            let start = clock.now
            let up = try await fleet.mosaic(["fleet", "up", "--json"])
            #expect(clock.now - start < .seconds(20), "no waiting out a deadline")
            #expect(up.status == 1)
            #expect(up.stdout.contains("is masked"), "\(up.stdout)")
            #expect(try await fleet.row("fine")?["paneAlive"] as? Bool == true)
        }
    }

    func cgroup(of pid: Int) throws -> String {
        try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
    }
}

extension TestFleet {
    /// A fleet whose `mosaic` calls reach `manager` and its unit directory, never the user's.
    convenience init(manager: UserManager) throws {
        try self.init(systemd: true)
        for (key, value) in manager.environment { environment[key] = value }
        environment["MOSAIC_SYSTEMD"] = .some(nil)  // unset even if the test run sets it
    }

    /// A `mosaic … --json` call that must succeed and print one object.
    func json(_ args: [String]) async throws -> [String: Any] {
        let result = try await mosaic(args)
        #expect(result.status == 0, "\(args.joined(separator: " ")): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any])
    }

    /// The pid of the tmux server on this fleet's socket.
    func serverPid() async throws -> Int {
        try #require(Int(try await tmux.run(["display-message", "-p", "#{pid}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}

extension UserManager {
    /// Every mosaic unit the manager knows, by name (one list-units call).
    func units() async throws -> [String: UnitState] {
        Dictionary(try await systemctl.listUnits(["mosaic-*"]).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// `systemctl is-enabled` for each unit, one line each; its non-zero exit for "disabled" is data.
    func isEnabled(_ units: [String]) async throws -> [String] {
        let result = try await systemctl.runner.run(systemctl.invocation(["is-enabled"] + units))
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
