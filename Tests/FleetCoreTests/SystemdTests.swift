import Foundation
import Testing
@testable import FleetCore

/// `list-units` parsing on output captured from systemd 252 (Debian 12), and the unit texts.
@Suite("systemd: list-units parsing and unit files")
struct SystemdTests {
    /// `systemctl --user list-units --all --plain --no-legend --full 'mosaic-*' 'nosuch-x.service'`
    /// while the holder was restarting after its server was SIGKILLed.
    static let restarting = """
        mosaic-agent@9x.service    loaded inactive   dead         Mosaic Fleet agent 9x
        mosaic-agent@a-b_c.service loaded inactive   dead         Mosaic Fleet agent a-b_c
        mosaic-agent@alpha.service loaded inactive   dead         Mosaic Fleet agent alpha
        mosaic-agent@ghost.service loaded failed     failed       Mosaic Fleet agent ghost
        mosaic-holder.service      loaded activating auto-restart Mosaic Fleet tmux server (socket mosaic-sd-6703)

        """

    /// The same call with a running fleet, and a unit enabled whose file is gone.
    static let running = """
        mosaic-agent@9x.service    loaded    inactive dead    Mosaic Fleet agent 9x
        mosaic-agent@alpha.service loaded    active   exited  Mosaic Fleet agent alpha
        mosaic-agent@ghost.service loaded    failed   failed  Mosaic Fleet agent ghost
        mosaic-gone.service        not-found inactive dead    mosaic-gone.service
        mosaic-holder.service      loaded    active   running Mosaic Fleet tmux server (socket mosaic-sd-6703)

        """

    /// Without `--plain`: a two-column mark, "● " on failed units.
    static let marked = """
          mosaic-agent@alpha.service loaded inactive dead    Mosaic Fleet agent alpha
        ● mosaic-agent@ghost.service loaded failed   failed  Mosaic Fleet agent ghost
          mosaic-holder.service      loaded active   running Mosaic Fleet tmux server (socket mosaic-sd-6703)
        """

    @Test("list-units lines parse into name, load, active and sub; the description is ignored")
    func parseRunning() {
        let units = UnitState.parse(Self.running)
        #expect(units.count == 5)
        #expect(units[1] == UnitState(name: "mosaic-agent@alpha.service", load: "loaded", active: "active", sub: "exited"))
        #expect(units[3] == UnitState(name: "mosaic-gone.service", load: "not-found", active: "inactive", sub: "dead"))
        #expect(units[4] == UnitState(name: "mosaic-holder.service", load: "loaded", active: "active", sub: "running"))
        #expect(units.map(\.isActive) == [false, true, false, false, true])
    }

    @Test("a unit restarting counts as active; a failed one does not")
    func parseRestarting() {
        let units = Dictionary(uniqueKeysWithValues: UnitState.parse(Self.restarting).map { ($0.name, $0) })
        #expect(units["mosaic-holder.service"]?.active == "activating")
        #expect(units["mosaic-holder.service"]?.sub == "auto-restart")
        #expect(units["mosaic-holder.service"]?.isActive == true)
        #expect(units["mosaic-agent@ghost.service"]?.isActive == false)
        #expect(units["mosaic-agent@a-b_c.service"]?.sub == "dead")
    }

    @Test("the failed-unit mark of output without --plain does not shift the fields")
    func parseMarked() {
        let units = UnitState.parse(Self.marked)
        #expect(units.map(\.name) == ["mosaic-agent@alpha.service", "mosaic-agent@ghost.service", "mosaic-holder.service"])
        #expect(units[1].active == "failed")
    }

    @Test("empty output is no units")
    func parseEmpty() {
        #expect(UnitState.parse("").isEmpty)
        #expect(UnitState.parse("\n").isEmpty)
    }

    static let home = "/home/u/my fleet %i $HOME"

    @Test("the holder runs the tmux server in the foreground on the fleet's socket and config")
    func holderText() {
        let text = FleetFiles.holderUnitText(tmuxPath: "/usr/bin/tmux", socket: "mosaic-factory",
                                             config: "\(Self.home)/fleet/tmux.conf", mosaic: "/opt/mosaic", home: Self.home)
        #expect(text.contains("Type=simple\n"))
        #expect(text.contains(#"ExecStart=/usr/bin/tmux -L mosaic-factory -f "/home/u/my fleet %%i $$HOME/fleet/tmux.conf" -D"# + "\n"))
        #expect(text.contains("ExecStartPost=/opt/mosaic internal holder\n"))
        #expect(text.contains(#"Environment="MOSAIC_HOME=/home/u/my fleet %%i $HOME""#))
        #expect(text.contains("Restart=on-failure\n"))
        #expect(text.contains("WantedBy=default.target\n"))
    }

    @Test("an agent unit is bound to the holder and only creates and kills its own session")
    func agentText() {
        let text = FleetFiles.agentTemplateText(mosaic: "/opt/mosaic", home: Self.home, environmentFile: "\(Self.home)/fleet/units.env")
        #expect(text.contains("BindsTo=mosaic-holder.service\n"))
        #expect(text.contains("After=mosaic-holder.service\n"))
        #expect(text.contains("Type=oneshot\n"))
        #expect(text.contains("RemainAfterExit=yes\n"))
        #expect(text.contains("ExecStart=/opt/mosaic internal launch %i\n"))
        #expect(text.contains("ExecStop=/opt/mosaic internal stop %i\n"))
        #expect(text.contains("EnvironmentFile=-/home/u/my fleet %%i $HOME/fleet/units.env\n"))
        #expect(!text.contains("KillMode"), "the default KillMode is safe: the session lives in the holder's cgroup")
        let exec = text.split(separator: "\n").filter { $0.hasPrefix("Exec") }
        #expect(exec.count == 2 && exec.allSatisfy { !$0.contains("tmux") }, "an agent unit never starts a tmux server")
    }

    @Test("exec words: plain words stay bare; others are double-quoted with %, $, quote and backslash escaped")
    func execQuoting() {
        #expect(UnitQuote.execWord("/usr/bin/tmux") == "/usr/bin/tmux")
        #expect(UnitQuote.execWord("a b") == #""a b""#)
        #expect(UnitQuote.execWord(#"50% $x "q" \e"#) == #""50%% $$x \"q\" \\e""#)
        #expect(UnitQuote.execWord("") == #""""#)
        #expect(UnitQuote.environment("K", #"a%b$c"d"#) == #""K=a%%b$c\"d""#)
    }

    @Test("environment-file lines escape backslash, quote, dollar and backtick, and keep % literal")
    func environmentFileQuoting() {
        #expect(UnitQuote.environmentFileLine("PATH", #"/a b:/c$d:/e"f:/g\h:/i'j:/k%l:/m`n"#)
                == #"PATH="/a b:/c\$d:/e\"f:/g\\h:/i'j:/k%l:/m\`n""#)
    }

    @Test("enablement is read from default.target.wants; a missing directory means nothing is enabled")
    func enabledFromWants() throws {
        var template = Array("\(NSTemporaryDirectory())/mosaic-wants.XXXXXX".utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try UnitInstaller.enabledUnits(in: dir).isEmpty)
        try FileManager.default.createDirectory(atPath: "\(dir)/default.target.wants", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/default.target.wants/mosaic-agent@a.service",
                                                   withDestinationPath: "\(dir)/mosaic-agent@.service")
        #expect(try UnitInstaller.enabledUnits(in: dir) == ["mosaic-agent@a.service"])
    }

    @Test("reachability needs the manager's private socket; MOSAIC_SYSTEMD=off forces tmux alone")
    func reachability() {
        let runner = SpawnRunner()
        #expect(!Systemctl(runner: runner, environment: [:]).isReachable)
        #expect(!Systemctl(runner: runner, environment: ["XDG_RUNTIME_DIR": "/nonexistent"]).isReachable)
        #expect(!Systemctl(runner: runner, environment: ["XDG_RUNTIME_DIR": "/nonexistent", "MOSAIC_SYSTEMD": "off"]).isReachable)
        let argv = Systemctl(runner: runner, environment: ["XDG_RUNTIME_DIR": "/r"]).invocation(["list-units"])
        #expect(argv.executable == "systemctl")
        #expect(argv.arguments == ["--user", "--no-pager", "list-units"])
        #expect(argv.environment["XDG_RUNTIME_DIR"] == "/r")
        // Offline edits (mask, enable) land in the unit directory of systemctl's own config home.
        let private_ = Systemctl(runner: runner, environment: ["XDG_RUNTIME_DIR": "/r", "XDG_CONFIG_HOME": "/c", "HOME": "/h"])
            .invocation(["mask", "x.service"])
        #expect(private_.environment["XDG_CONFIG_HOME"] == "/c")
        #expect(private_.environment["HOME"] == "/h")
    }

    @Test("up through systemd starts the holder and every stopped agent in one blocking call, and waits on no per-agent call")
    func upIsOneStartCall() async throws {
        var template = Array("\(NSTemporaryDirectory())/mosaic-up.XXXXXX".utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = (1...50).map { "agent-\($0)" }
        let started = OneWaySwitch()
        let runner = RecordingRunner { inv in
            let args = inv.arguments
            if inv.executable == "tmux" { return ProcessResult(status: 1, standardError: Data("no server running on /tmp/x\n".utf8)) }
            if args.contains("start") { started.set() }
            if args.contains("list-units") {
                guard started.isSet else { return ProcessResult(status: 0) }
                let lines = names.map { "mosaic-agent@\($0).service loaded active exited Mosaic Fleet agent \($0)\n" }.joined()
                return ProcessResult(status: 0, standardOutput: Data(lines.utf8))
            }
            return ProcessResult(status: 0)
        }
        let context = FleetContext(paths: FleetPaths(home: dir),
                                   environment: ["HOME": dir, "XDG_CONFIG_HOME": dir, "XDG_RUNTIME_DIR": dir,
                                                 "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                                   userName: "u", hostName: "h", mosaicExecutable: "/opt/mosaic", runner: runner)
        let roster = Roster(tenant: "t", host: "h", socketName: "mosaic-unit-test", heartbeatIntervalSeconds: 15,
                            agents: names.map { AgentSpec(name: $0, runtime: .stub) })
        let launcher = try Launcher(context: context, roster: roster, useSystemd: true)
        _ = try await launcher.up(roster.agents)
        let systemctl = runner.invocations.filter { $0.executable == "systemctl" }.map(\.arguments)
        let starts = systemctl.filter { $0.contains("start") }
        #expect(starts.count == 1)
        #expect(starts.first == ["--user", "--no-pager", "start", "mosaic-holder.service"] + names.map { "mosaic-agent@\($0).service" })
        #expect(!systemctl.contains { $0.contains("--no-block") }, "the call blocks until systemd ran the jobs")
        #expect(systemctl.allSatisfy { args in !names.contains { name in args.last == "mosaic-agent@\(name).service" && args.count == 4 } },
                "no call per agent")
        #expect(FileIO.readSmall("\(dir)/systemd/user/mosaic-agent@.service")?.contains("EnvironmentFile=-\(dir)/fleet/units.env") == true)
        #expect(FileIO.readSmall("\(dir)/fleet/units.env")?.hasPrefix("# Written by") == true)
    }
}

/// A thread-safe one-way switch for fake runners.
final class OneWaySwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
