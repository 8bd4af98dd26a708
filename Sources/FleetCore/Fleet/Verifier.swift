import Foundation

/// One finding of `fleet verify`: what was checked, whether it holds, and the fix if not.
public struct VerifyCheck: Sendable, Equatable {
    public enum Level: String, Sendable { case ok, problem, info }
    public var name: String
    public var level: Level
    public var detail: String
    public var fix: String?
}

/// Checks the fleet's footing: tmux, socket, holder, units, linger, home permissions.
public struct Verifier: Sendable {
    public static let minimumTmux = (3, 2)
    public let context: FleetContext

    public init(context: FleetContext) { self.context = context }

    public func run() async -> [VerifyCheck] {
        var checks: [VerifyCheck] = []
        func add(_ name: String, _ level: VerifyCheck.Level, _ detail: String, fix: String? = nil) {
            checks.append(VerifyCheck(name: name, level: level, detail: detail, fix: fix))
        }
        let roster: Roster
        do {
            roster = try context.loadRoster()
            add("roster", .ok, "\(context.paths.roster): \(roster.agents.count) agents")
        } catch {
            add("roster", .problem, "\(error)", fix: "fix the roster, or run `mosaic fleet init` to write a starter one")
            return checks
        }
        checkHome(add)

        let tmux: Tmux
        do { tmux = try context.tmux(for: roster, timeout: .seconds(5)) } catch {
            add("tmux socket", .problem, "\(error)", fix: "set tmux.socketName in the roster to a plain name")
            return checks
        }
        do {
            let v = try await tmux.version()
            if (v.major, v.minor) >= Self.minimumTmux {
                add("tmux", .ok, v.text)
            } else {
                add("tmux", .problem, "\(v.text) is older than 3.2 (needs new-session -e and -D)", fix: "install tmux 3.2 or newer")
            }
        } catch {
            add("tmux", .problem, "\(error)", fix: "install tmux (Debian: apt-get install tmux)")
            return checks
        }
        var serverRunning: Bool?
        do {
            let listed = try await tmux.listPanes()
            serverRunning = listed != nil
            if let panes = listed {
                add("tmux server", .ok, "socket \"\(roster.socketName)\" answers (\(Set(panes.map(\.sessionName)).count) sessions)")
                if panes.contains(where: { $0.sessionName == roster.holderSession }) {
                    add("holder", .ok, "session \"\(roster.holderSession)\" is alive")
                } else {
                    add("holder", .problem, "no holder session \"\(roster.holderSession)\"", fix: "run `mosaic fleet up` (it recreates the holder)")
                }
            } else {
                add("tmux server", .problem, "no server answers on socket \"\(roster.socketName)\"", fix: "run `mosaic fleet up`")
            }
        } catch {
            add("tmux server", .problem, "\(error)", fix: "kill the hung server (`tmux -L \(roster.socketName) kill-server`) and run `mosaic fleet up`")
        }
        await checkSystemd(roster, serverRunning: serverRunning, add)
        checkDaemon(add)
        return checks
    }

    /// The fleet daemon (supervision, journal): running for this home, or not.
    func checkDaemon(_ add: (String, VerifyCheck.Level, String, String?) -> Void) {
        if context.environment["MOSAIC_DAEMON"] == "off" {
            add("daemon", .info, "MOSAIC_DAEMON=off: no fleet daemon is started, so nothing restarts a crashed agent", nil)
        } else if let pid = DaemonProbe.runningPid(context.paths) {
            add("daemon", .ok, "the fleet daemon runs (pid \(pid), socket \(context.paths.daemonSocket))", nil)
        } else {
            add("daemon", .problem, "no fleet daemon runs for this home: nothing supervises the agents or keeps the journal",
                context.systemctl.isReachable ? "run `mosaic fleet up` (it starts \(FleetFiles.daemonUnit))"
                    : "run `mosaic fleet up` (it starts the daemon detached) or `mosaic daemon`")
        }
    }

    func checkHome(_ add: (String, VerifyCheck.Level, String, String?) -> Void) {
        let run = context.paths.runDirectory
        let uid = context.host.user.uid
        guard let st = context.host.status(run) else {
            add("home", .problem, "heartbeat directory \(run) is missing", "run `mosaic fleet init`")
            return
        }
        let mode = st.mode & 0o777
        if st.owner != uid {
            add("home", .problem, "\(run) is owned by uid \(st.owner), not you (uid \(uid))", "chown it to yourself")
        } else if mode != 0o700 {
            add("home", .problem, "\(run) has mode \(String(mode, radix: 8)); heartbeats must be private", "chmod 700 \(run)")
        } else {
            add("home", .ok, "\(run) is private (0700)", nil)
        }
    }

    func checkSystemd(_ roster: Roster, serverRunning: Bool?, _ add: (String, VerifyCheck.Level, String, String?) -> Void) async {
        let systemctl = context.systemctl
        if case .failure(let why) = systemctl.reachability {
            add("systemd", .info, "n/a: \(why); agents run on tmux alone and will not come back after a reboot", nil)
            return
        }
        let installer = UnitInstaller(context: context, roster: roster)
        guard installer.isInstalled else {
            add("units", .problem, "units are not installed in \(context.unitDirectory)", "run `mosaic fleet init --enable`")
            return
        }
        if let tmuxPath = context.host.findExecutable("tmux", path: context.environment["PATH"]),
           installer.unitFiles(tmuxPath: tmuxPath).contains(where: { context.host.readFile("\(context.unitDirectory)/\($0.key)") != $0.value }) {
            add("units", .problem, "installed units differ from what this roster and binary need", "run `mosaic fleet init` to reinstall them")
        } else {
            add("units", .ok, "\(FleetFiles.holderUnit) and \(FleetFiles.agentTemplate) installed", nil)
        }
        let enabled: Set<String>
        do { enabled = try UnitInstaller.enabledUnits(in: context.unitDirectory, host: context.host) } catch {
            add("enabled", .problem, "cannot read \(context.unitDirectory)/default.target.wants: \(error)", "make it readable by you")
            return
        }
        let missing = installer.unitsToEnable.filter { !enabled.contains($0) }
        if missing.isEmpty {
            add("enabled", .ok, "holder and all \(roster.agents.count) agents start at boot", nil)
        } else {
            add("enabled", .problem, "not enabled at boot: \(missing.joined(separator: ", "))", "run `mosaic fleet init --enable`")
        }
        let wanted = Set(installer.unitsToEnable)
        let strays = enabled.filter { $0.hasPrefix("mosaic-agent@") && !wanted.contains($0) }.sorted()
        if !strays.isEmpty {
            add("enabled", .problem, "enabled at boot but not in the roster: \(strays.joined(separator: ", "))",
                "run `systemctl --user disable \(strays.joined(separator: " "))`")
        }
        await checkUnitStates(roster, serverRunning: serverRunning, add)
        if context.lingerEnabled {
            add("linger", .ok, "linger is on for \(context.userName)", nil)
        } else {
            add("linger", .problem, "linger is off for \(context.userName): the fleet stops at logout and does not start at boot",
                "run `loginctl enable-linger \(context.userName)`")
        }
    }

    /// Whether the units run what they should: the server under the holder unit, no failed agent.
    func checkUnitStates(_ roster: Roster, serverRunning: Bool?, _ add: (String, VerifyCheck.Level, String, String?) -> Void) async {
        let units: [UnitState]
        do { units = try await context.systemctl.listUnits(["mosaic-*"]) } catch {
            add("unit states", .problem, "\(error)", "check the user manager with `systemctl --user status`")
            return
        }
        let holder = units.first { $0.name == FleetFiles.holderUnit }
        if let holder, holder.isActive {
            add("holder unit", .ok, "\(FleetFiles.holderUnit) is \(holder.active)/\(holder.sub)", nil)
        } else if serverRunning == true {
            add("holder unit", .problem,
                "the tmux server on socket \"\(roster.socketName)\" runs outside \(FleetFiles.holderUnit) (started without systemd): nothing supervises it",
                "run `mosaic fleet down`, then `mosaic fleet up`")
        } else {
            add("holder unit", .info, "\(FleetFiles.holderUnit) is \(holder.map { "\($0.active)/\($0.sub)" } ?? "inactive"); `mosaic fleet up` starts it", nil)
        }
        // Whether the daemon runs (through this unit or not) is checkDaemon's one line.
        let agentUnits = Set(roster.agents.map { FleetFiles.agentUnit($0.name) })
        let failed = units.filter { agentUnits.contains($0.name) && $0.active == "failed" }.map(\.name)
        if !failed.isEmpty {
            add("agent units", .problem, "failed: \(failed.joined(separator: ", "))",
                "see `systemctl --user status \(failed[0])`, then run `mosaic fleet up`")
        }
    }
}
