import Foundation
import Testing
@testable import FleetCore

/// The fleet daemon as its systemd unit under a real private user manager: started by `fleet up`
/// (Type=notify: `systemctl start` returns once it has adopted the fleet), brought back by
/// systemd after SIGKILL without touching an agent, and a reboot (the manager stopped, taking every
/// unit and the tmux server, then started again) brings every agent back with nobody typing.
@Suite("fleet daemon under a real systemd user manager", .serialized,
       .enabled("a systemd user manager must be able to start here (the reason is printed if not)") { UserManager.canStart })
struct DaemonSystemdTests {
    @Test("the daemon's unit is ready once it has adopted; SIGKILLed, systemd restarts it and it adopts the fleet untouched")
    func unitAndKill() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            fleet.environment["MOSAIC_DAEMON"] = .some(nil)
            try fleet.writeRoster(agents: TestFleet.stubs(["u1", "u2"]), interval: 1)
            try await fleet.mosaic(["fleet", "init"])
            let up = try await fleet.mosaic(["fleet", "up"])
            #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
            #expect(up.stderr.contains("fleet daemon started (mosaic-daemon.service)"), "\(up.stderr)")
            // Type=notify: by the time `up` returned, the daemon had said READY=1 after adopting.
            #expect(try await manager.units()["mosaic-daemon.service"]?.sub == "running")
            #expect(try await fleet.events(["--kind", "daemon-adopted"]).count == 1)
            let first = try #require(DaemonProbe.runningPid(fleet.paths))
            let panes = try await fleet.tmux.listPanes() ?? []

            kill(first, SIGKILL)
            try await fleet.waitUntil("systemd starts the daemon again (Restart=always)", timeout: .seconds(20)) {
                guard let pid = DaemonProbe.runningPid(fleet.paths), pid != first else { return false }
                return try await fleet.events(["--kind", "daemon-adopted"]).count == 2
            }
            let adopted = try await fleet.events(["--kind", "daemon-adopted"]).last
            #expect((adopted?["detail"] as? [String: Any])?["message"] as? String == "2 of 2 agents running")
            let after = try await fleet.tmux.listPanes() ?? []
            #expect(after.map(\.pid) == panes.map(\.pid), "no agent was started, stopped or replaced")

            // Under systemd the daemon restarts an agent through its unit, and the unit agrees.
            let victim = try #require(try await fleet.row("u1")?["panePid"] as? Int)
            kill(pid_t(victim), SIGKILL)
            try await fleet.waitUntil("the daemon restarts u1 through its unit", timeout: .seconds(20)) {
                guard let row = try await fleet.row("u1") else { return false }
                return row["panePid"] as? Int != victim && row["healthy"] as? Bool == true && row["systemdActive"] as? Bool == true
            }
            let down = try await fleet.mosaic(["fleet", "down"])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(down.stderr.contains("fleet daemon stopped (mosaic-daemon.service)"), "\(down.stderr)")
            #expect(try await manager.units()["mosaic-daemon.service"]?.isActive != true)
        }
    }

    @Test("reboot: with fleet init --enable, the manager stopped and started again brings every agent back healthy, nobody typing")
    func reboot() async throws {
        try await UserManager.with { manager in
            let fleet = try TestFleet(manager: manager)
            fleet.environment["MOSAIC_DAEMON"] = .some(nil)
            try fleet.writeRoster(agents: TestFleet.stubs(["r1", "r2", "r3"]), interval: 1)
            let enable = try await fleet.mosaic(["fleet", "init", "--enable"])
            #expect(enable.status == 0, "\(enable.stderr)")
            #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
            try await fleet.waitUntil("the fleet is healthy", timeout: .seconds(20)) {
                try await fleet.ps().filter { $0["kind"] as? String == "agent" }.allSatisfy { $0["healthy"] as? Bool == true }
            }
            let before = Set(try await fleet.tmux.listPanes()?.compactMap(\.pid) ?? [])
            let server = try await fleet.serverPid()

            try await UserManager.onThread { try manager.reboot() }
            #expect(kill(pid_t(server), 0) != 0 || ProcessTable().sample(pid_t(server))?.isZombie == true,
                    "the old tmux server went down with the manager")

            do {
                try await fleet.waitUntil("every agent is back and healthy", timeout: .seconds(60)) {
                    let rows = try await fleet.ps().filter { $0["kind"] as? String == "agent" }
                    return rows.count == 3 && rows.allSatisfy {
                        $0["healthy"] as? Bool == true && !before.contains(Int32($0["panePid"] as? Int ?? 0))
                    }
                }
            } catch {
                // What the planes, the units and the daemon said, so a failure can be understood.
                let table = try? await fleet.mosaic(["fleet", "ps"])
                let events = try? await fleet.mosaic(["fleet", "events", "--since", "5m"])
                Issue.record("""
                    ps: \(table?.stdout ?? "-") \(table?.stderr ?? "")
                    units: \((try? await manager.units()).map { "\($0)" } ?? "-")
                    events: \(events?.stdout ?? "-")
                    daemon log: \(FileIO.readSmall(fleet.paths.daemonLog, limit: 1 << 16) ?? "-")
                    """)
                throw error
            }
            let units = try await manager.units()
            #expect(units["mosaic-daemon.service"]?.sub == "running", "the daemon came back at boot too")
            #expect(units["mosaic-holder.service"]?.sub == "running")
            let sessions = try await fleet.tmux.listPanes()?.map(\.sessionName).sorted() ?? []
            #expect(sessions == ["_holder", "r1", "r2", "r3"], "one session each: \(sessions)")
            #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
        }
    }
}
