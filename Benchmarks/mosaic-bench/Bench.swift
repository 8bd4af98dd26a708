import Foundation
import FleetCore
import FleetTestSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Benchmark of `mosaic fleet ps` against a floor and a naive per-agent baseline (issue 3,
/// "Speed"), and of `fleet up`/`down`; scripts/bench-ps builds and runs it, scripts/README-bench.md
/// says what each figure is. The fleets are the tests' own fixtures: `TestFleet` (a temp home, a
/// private tmux socket, torn down when released) and `UserManager` (a private systemd user
/// manager); heartbeats are written by FleetCore's `HeartbeatStore`, the floor asks tmux and
/// systemctl exactly what `fleet ps` asks (`PaneFormat.format`, `Systemctl.invocation`).
///
/// Exit status: 0 every target met, 1 a target missed, 2 the benchmark could not run,
/// 128+signal interrupted.
@main
struct Bench {
    static func main() async {
        let options: Options
        do { options = try Options.parse(Array(CommandLine.arguments.dropFirst())) } catch {
            log("mosaic-bench: \(error)\n\(Options.usage)")
            exit(64)
        }
        Teardown.shared.installSignalHandlers()
        let bench = Bench(options: options)
        var code: Int32 = 2
        do {
            code = try await bench.run() ? 0 : 1
        } catch {
            log("mosaic-bench: \(error)")
        }
        Teardown.shared.runAll()
        exit(code)
    }

    let options: Options
    let environment: BenchEnvironment

    init(options: Options) {
        self.options = options
        environment = BenchEnvironment()
    }

    func run() async throws -> Bool {
        guard let tmux = SpawnRunner.resolve("tmux") else { throw SetupError("tmux is not on PATH; install tmux 3.x") }
        guard FileManager.default.isExecutableFile(atPath: options.mosaic) else {
            throw SetupError("--mosaic \(options.mosaic) is not an executable file")
        }
        let gnuTime = Measure.findGNUTime()
        if gnuTime == nil { log("warning: GNU time (/usr/bin/time -f) not found: peak RSS is not measured (apt-get install time)") }
        let nofile = Measure.raiseOpenFileLimit()
        if nofile < 3 * (options.sizes.max() ?? 0) + 100 {
            log("warning: open-file limit \(nofile) may be too low for \(options.sizes.max() ?? 0) panes")
        }
        var versions = [try await environment.output(Invocation(tmux, ["-V"])).trimmingCharacters(in: .whitespacesAndNewlines)]
        log("mosaic: \(options.mosaic); \(versions[0])")

        var manager: UserManager?
        if !options.noSystemd {
            let started: UserManager
            do { started = try UserManager.start() } catch {
                throw SetupError("no private systemd user manager: \(error); rerun with --no-systemd")
            }
            Teardown.shared.register { started.stop() }
            let version = try await environment.output(started.systemctl.invocation(["--version"]))
            versions.append(version.split(separator: "\n").first.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } ?? "systemd")
            log("private systemd user manager: pid \(started.pid), \(versions.last!), state \(started.systemState() ?? "?")")
            manager = started
        }
        let context = RunContext(options: options, environment: environment, manager: manager, gnuTime: gnuTime)

        let up = options.upAgents > 0 ? try await context.measureUp(options.upAgents) : nil
        var fleets: [FleetFigures] = []
        if let manager { try context.installBenchTemplate(manager) }
        for size in options.sizes { fleets.append(try await context.measureFleet(size)) }
        let upSystemd = manager != nil && options.upAgents > 0 ? try await context.measureUpSystemd(options.upAgents) : nil
        let report = Report(options: options, systemd: manager != nil, gnuTime: gnuTime != nil, versions: versions,
                            fleets: fleets, up: up, upSystemd: upSystemd)
        return report.print()
    }
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

struct Options: Sendable {
    var mosaic = ""
    var sizes = [10, 200, 1000]
    var runs = 7
    var naiveMax = 200
    var upAgents = 100
    var upRuns = 3
    var upLimit = 10.0
    var noSystemd = false

    static let usage = """
    usage: mosaic-bench --mosaic PATH [--sizes 10,200,1000] [--runs 7] [--naive-max 200]
                        [--up-agents 100] [--up-runs 3] [--up-limit 10] [--no-systemd]
    (scripts/bench-ps builds the release mosaic and passes it)
    """

    static func parse(_ args: [String]) throws -> Options {
        var o = Options()
        var rest = args[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw SetupError("\(flag) needs a value") }
            return v
        }
        func int(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let n = Int(text), n >= 0 else { throw SetupError("\(flag) must be a whole number, not \(text)") }
            return n
        }
        while let arg = rest.popFirst() {
            switch arg {
            case "--mosaic": o.mosaic = URL(fileURLWithPath: try value(arg)).standardizedFileURL.path
            case "--sizes":
                let text = try value(arg)
                let sizes = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
                    throw SetupError("--sizes must be positive whole numbers separated by commas, such as 10,200,1000 (not \(text))")
                }
                o.sizes = Array(Set(sizes.compactMap { $0 })).sorted()
            case "--runs": o.runs = try int(arg)
            case "--naive-max": o.naiveMax = try int(arg)
            case "--up-agents": o.upAgents = try int(arg)
            case "--up-runs": o.upRuns = try int(arg)
            case "--up-limit":
                let text = try value(arg)
                guard let limit = Double(text), limit > 0 else { throw SetupError("--up-limit must be seconds, not \(text)") }
                o.upLimit = limit
            case "--no-systemd": o.noSystemd = true
            case "-h", "--help": print(usage); exit(0)
            default: throw SetupError("unknown argument \(arg)")
            }
        }
        guard !o.mosaic.isEmpty else { throw SetupError("--mosaic PATH is required") }
        guard o.runs > 0, o.upRuns > 0 else { throw SetupError("--runs and --up-runs must be positive") }
        return o
    }
}

/// The environment every measured command gets: the caller's, without what would point mosaic,
/// tmux or systemctl elsewhere (a surrounding tmux, the user's fleet home, the user's manager).
struct BenchEnvironment: Sendable {
    static let dropped = ["TMUX", "TMUX_PANE", "MOSAIC_HOME", "MOSAIC_SYSTEMD", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME",
                          "DBUS_SESSION_BUS_ADDRESS", "NO_COLOR"]
    let runner = SpawnRunner()

    /// Changes on top of the inherited environment (nil removes a variable).
    func changes(manager: UserManager?, systemd: Bool) -> [String: String?] {
        var changes: [String: String?] = [:]
        for key in Self.dropped { changes.updateValue(nil, forKey: key) }
        if ProcessInfo.processInfo.environment["LC_ALL"] == nil { changes["LC_ALL"] = "C.UTF-8" }
        if let manager { for (key, value) in manager.environment { changes[key] = value } }
        if !systemd { changes["MOSAIC_SYSTEMD"] = "off" }
        return changes
    }

    func output(_ invocation: Invocation) async throws -> String {
        let result = try await runner.run(invocation)
        guard result.succeeded else {
            throw SetupError("\(invocation.description.prefix(120)) failed (exit \(result.status)): \(result.stderr.suffix(2000))")
        }
        return result.stdout
    }
}

/// What to undo when the benchmark ends, also on SIGINT, SIGTERM or SIGHUP: each fleet's tmux
/// server and home, the user manager. Fleets are also torn down as they are released.
final class Teardown: Sendable {
    static let shared = Teardown()
    private let actions = Mutex<[Int: @Sendable () -> Void]>([:])
    private let nextKey = Atomic<Int>(0)
    /// Kept alive for the process's life; only appended to, once per signal, at start.
    nonisolated(unsafe) private var sources: [DispatchSourceSignal] = []

    @discardableResult
    func register(_ action: @escaping @Sendable () -> Void) -> Int {
        let key = nextKey.add(1, ordering: .relaxed).newValue
        actions.withLock { $0[key] = action }
        return key
    }

    func unregister(_ key: Int) { _ = actions.withLock { $0.removeValue(forKey: key) } }

    /// Runs every registered action once, newest first.
    func runAll() {
        let pending = actions.withLock { all -> [@Sendable () -> Void] in
            defer { all = [:] }
            return all.sorted { $0.key > $1.key }.map(\.value)
        }
        for action in pending { action() }
    }

    func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                log("mosaic-bench: interrupted (signal \(sig)); cleaning up")
                Measure.killCurrentChild()
                Teardown.shared.runAll()
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// One fleet of the benchmark: a TestFleet of `count` cheap agents (`sleep infinity`, runtime
/// custom) with an hour's heartbeat interval, so no heartbeat turns stale while it is measured.
final class BenchFleet: Sendable {
    let fleet: TestFleet
    let names: [String]
    private let teardownKey: Int

    init(label: String, count: Int, context: RunContext, systemd: Bool) throws {
        let fleet = try TestFleet(systemd: systemd, socketPrefix: "mosaic-bench-\(label)", binary: context.options.mosaic)
        for (key, value) in context.environment.changes(manager: context.manager, systemd: systemd) {
            fleet.environment.updateValue(value, forKey: key)
        }
        fleet.environment["MOSAIC_HOME"] = fleet.home
        self.fleet = fleet
        names = (1...count).map { "b\(label)-" + String(format: "%04d", $0) }
        try fleet.writeRoster(agents: TestFleet.stubs(names, runtime: "custom", command: "sleep infinity"), interval: 3600)
        let socket = fleet.socket, home = fleet.home
        teardownKey = Teardown.shared.register {
            TestFleet.runQuietly(Invocation("tmux", ["-L", socket, "kill-server"]), timeout: 10)
            try? FileManager.default.removeItem(atPath: home)
        }
    }

    deinit { Teardown.shared.unregister(teardownKey) }

    var home: String { fleet.home }

    func mosaic(_ args: [String], environment extra: [String: String] = [:]) async throws -> ProcessResult {
        let result: ProcessResult
        if extra.isEmpty {
            result = try await fleet.mosaic(args, timeout: .seconds(600))
        } else {
            var env = fleet.environment
            for (key, value) in extra { env[key] = value }
            result = try await fleet.runner.run(Invocation(fleet.binary, args, environment: env, timeout: .seconds(600)))
        }
        guard result.succeeded else {
            throw SetupError("mosaic \(args.joined(separator: " ")) failed (exit \(result.status)): \(result.stderr.suffix(2000))")
        }
        return result
    }

    /// `fleet up --json`; every agent must say `started` (and `via` must be `via` if given).
    func up(via: String? = nil) async throws -> Double {
        let start = Measure.now()
        let result = try await mosaic(["fleet", "up", "--json"])
        let elapsed = Measure.now() - start
        let outcomes = (try? JSONSerialization.jsonObject(with: result.standardOutput)) as? [[String: Any]] ?? []
        let bad = outcomes.filter { $0["action"] as? String != "started" || (via != nil && $0["via"] as? String != via) }
        guard outcomes.count == names.count, bad.isEmpty else {
            throw SetupError("fleet up: \(outcomes.count) outcomes for \(names.count) agents; not started\(via.map { " via \($0)" } ?? ""): \(bad.prefix(3))")
        }
        return elapsed
    }

    func down() async throws -> Double {
        let start = Measure.now()
        try await mosaic(["fleet", "down", "--json"])
        let elapsed = Measure.now() - start
        if try await fleet.tmux.listPanes() != nil { throw SetupError("fleet down left the tmux server of \(fleet.socket) running") }
        return elapsed
    }

    /// The pid of every agent's live pane; throws unless every agent has one.
    func livePanes() async throws -> [String: Int32] {
        let panes = try await fleet.tmux.listPanes() ?? []
        var pids: [String: Int32] = [:]
        for pane in panes where !pane.dead { if let pid = pane.pid { pids[pane.sessionName] = pid } }
        let alive = names.filter { pids[$0] != nil }.count
        guard alive == names.count else { throw SetupError("fleet of \(names.count): only \(alive) panes alive") }
        return pids
    }

    /// Heartbeat protocol v1 for every agent, written by FleetCore's own writer.
    func writeHeartbeats(_ pids: [String: Int32]) throws {
        try FileIO.makeDirectory(fleet.paths.runDirectory, mode: 0o700)
        let now = Date()
        for name in names { try fleet.store.write(Heartbeat(ts: now, pid: pids[name]!, status: "ok"), for: name) }
    }
}

struct FleetFigures {
    var agents: Int
    var floorMs: Double
    var mosaicMs: Double
    var naiveMs: Double?
    var rssKB: Double?
    var tmuxCalls: Int
    var systemctlCalls: Int
    var upSeconds: Double
}

struct UpFigures {
    var agents: Int
    var up: [Double]
    var down: [Double]
}

struct RunContext: Sendable {
    let options: Options
    let environment: BenchEnvironment
    let manager: UserManager?
    let gnuTime: String?
    var systemd: Bool { manager != nil }

    // The per-agent loop of a `ps` that asks each plane about each agent.
    static let naiveScript = #"""
    socket=$1 format=$2 run=$3 systemd=$4
    shift 4
    for agent in "$@"; do
      if [ "$systemd" = on ]; then
        systemctl --user --no-pager show -p ActiveState -p SubState -p UnitFileState "mosaic-agent@$agent.service" >/dev/null || exit 1
      fi
      tmux -L "$socket" list-panes -t "=$agent:" -F "$format" >/dev/null || exit 1
      while IFS= read -r line; do :; done < "$run/$agent.hb"
    done
    """#

    static let template = """
    # Written by mosaic-bench: a stand-in for mosaic-agent@.service that costs nothing to run,
    # so 1000 instances can be loaded and active. Only the systemd plane's state is benchmarked.
    [Unit]
    Description=mosaic bench agent %i

    [Service]
    Type=oneshot
    RemainAfterExit=yes
    ExecStart=\(SpawnRunner.resolve("true") ?? "/bin/true")

    """

    var unitSystemctl: Systemctl? {
        manager.map { Systemctl(runner: SpawnRunner(), environment: $0.environment, timeout: .seconds(300)) }
    }

    func installBenchTemplate(_ manager: UserManager) throws {
        try FileIO.makeDirectory("\(manager.unitDirectory)/default.target.wants", mode: 0o755)
        try FileIO.writeAtomically(Self.template, to: "\(manager.unitDirectory)/mosaic-agent@.service")
        Teardown.shared.register { [manager] in try? FileManager.default.removeItem(atPath: manager.unitDirectory) }
    }

    func loadUnits(_ names: [String]) async throws {
        guard let manager, let systemctl = unitSystemctl else { return }
        try await systemctl.daemonReload()
        let units = names.map { "mosaic-agent@\($0).service" }
        for unit in units {
            symlink("../mosaic-agent@.service", "\(manager.unitDirectory)/default.target.wants/\(unit)")
        }
        for start in stride(from: 0, to: units.count, by: 250) {
            try await systemctl.start(Array(units[start..<min(start + 250, units.count)]))
        }
    }

    func unloadUnits(_ names: [String]) async throws {
        guard let manager, let systemctl = unitSystemctl else { return }
        let units = names.map { "mosaic-agent@\($0).service" }
        for start in stride(from: 0, to: units.count, by: 250) {
            try await systemctl.stop(Array(units[start..<min(start + 250, units.count)]))
        }
        for unit in units { unlink("\(manager.unitDirectory)/default.target.wants/\(unit)") }
    }

    /// Refuses to time a fleet that is not what it claims: every agent alive, healthy, unit active.
    func checkSnapshot(_ fleet: BenchFleet) async throws {
        let result = try await fleet.mosaic(["fleet", "ps", "--json"])
        let rows = (try? JSONSerialization.jsonObject(with: result.standardOutput)) as? [[String: Any]] ?? []
        let agents = rows.filter { $0["kind"] as? String == "agent" }
        let strays = rows.filter { $0["kind"] as? String == "stray" }.compactMap { $0["name"] as? String }
        var problems: [String] = []
        if agents.count != fleet.names.count { problems.append("\(agents.count) agent rows for \(fleet.names.count) agents") }
        if !strays.isEmpty { problems.append("strays: \(strays.prefix(5))") }
        for row in agents {
            var wrong: [String] = []
            if row["paneAlive"] as? Bool != true { wrong.append("paneAlive=\(row["paneAlive"] ?? "nil")") }
            let health = (row["heartbeat"] as? [String: Any])?["health"] as? String
            if health != "healthy" { wrong.append("heartbeat=\(health ?? "nil")") }
            let active = row["systemdActive"] as? Bool, enabled = row["systemdEnabled"] as? Bool
            if systemd, active != true || enabled != true { wrong.append("systemd active=\(String(describing: active)) enabled=\(String(describing: enabled))") }
            if !systemd, active != nil { wrong.append("systemdActive=\(active!) without systemd") }
            if !wrong.isEmpty { problems.append("\(row["name"] ?? "?"): \(wrong.joined(separator: ", "))") }
        }
        if !problems.isEmpty {
            throw SetupError("the fleet is not in the state to measure: \(problems.prefix(5).joined(separator: "; "))")
        }
    }

    /// Runs `fleet ps --json` once with logging shims for tmux and systemctl first on PATH.
    func countCalls(_ fleet: BenchFleet) async throws -> (tmux: Int, systemctl: Int) {
        let shims = "\(fleet.home)/shims", callLog = "\(fleet.home)/calls.log"
        try FileIO.makeDirectory(shims, mode: 0o755)
        for name in ["tmux", "systemctl"] {
            guard let real = SpawnRunner.resolve(name) else { continue }
            let shim = "#!/bin/sh\nprintf '%s\\n' \"\(name) $*\" >> \"$MOSAIC_BENCH_CALL_LOG\"\nexec \(ShellQuote.quote(real)) \"$@\"\n"
            try FileIO.writeAtomically(shim, to: "\(shims)/\(name)", mode: 0o755)
        }
        try FileIO.writeAtomically("", to: callLog)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        try await fleet.mosaic(["fleet", "ps", "--json"], environment: ["PATH": "\(shims):\(path)", "MOSAIC_BENCH_CALL_LOG": callLog])
        let calls = (FileIO.readSmall(callLog, limit: 1 << 20) ?? "").split(separator: "\n").map { $0.split(separator: " ").first ?? "" }
        return (calls.filter { $0 == "tmux" }.count, calls.filter { $0 == "systemctl" }.count)
    }

    func measureFleet(_ count: Int) async throws -> FleetFigures {
        log("fleet \(count): setting up")
        let fleet = try BenchFleet(label: "\(count)", count: count, context: self, systemd: false)
        let upSeconds = try await fleet.up()
        try fleet.writeHeartbeats(try await fleet.livePanes())
        if systemd {
            let start = Measure.now()
            try await loadUnits(fleet.names)
            log(String(format: "fleet %d: %d units started in %.1f s", count, count, Measure.now() - start))
        }
        // Started through tmux; read with the systemd plane when there is a manager.
        if systemd { fleet.fleet.environment.updateValue(nil, forKey: "MOSAIC_SYSTEMD") }
        try await checkSnapshot(fleet)
        let calls = try await countCalls(fleet)

        let run = fleet.fleet.paths.runDirectory
        let flag = systemd ? "on" : "off"
        let tmuxList = fleet.fleet.tmux.invocation(["list-panes", "-a", "-F", PaneFormat.format])
        let listUnits = Systemctl(runner: SpawnRunner(), environment: manager?.environment ?? [:])
            .invocation(["list-units", "--all", "--plain", "--no-legend", "--full", "mosaic-*"])
        var floor = ShellQuote.join([tmuxList.executable] + tmuxList.arguments) + " >/dev/null || exit 1\n"
        if systemd { floor += ShellQuote.join([listUnits.executable] + listUnits.arguments) + " >/dev/null || exit 1\n" }
        floor += "cat \(ShellQuote.quote(run))/*.hb >/dev/null\n"
        let baseEnv = Invocation.inheritedEnvironment(with: environment.changes(manager: manager, systemd: systemd))
        let mosaicEnv = Invocation.inheritedEnvironment(with: fleet.fleet.environment)
        var commands: [(String, [String], [String: String])] = [
            ("floor", ["/bin/sh", "-c", floor], baseEnv),
            ("mosaic", [options.mosaic, "fleet", "ps", "--json"], mosaicEnv),
        ]
        if count <= options.naiveMax {
            commands.append(("naive", ["/bin/sh", "-c", Self.naiveScript, "naive", fleet.fleet.socket, PaneFormat.format, run, flag] + fleet.names, baseEnv))
        }
        var results: [String: [Double]] = [:]
        let stderrFile = "\(fleet.home)/last-stderr"
        for (_, argv, env) in commands { _ = try Measure.time(argv, env, stderr: stderrFile) }  // warm-up: caches
        for round in 1...options.runs {
            for (kind, argv, env) in commands { results[kind, default: []].append(try Measure.time(argv, env, stderr: stderrFile)) }
            log("fleet \(count): round \(round)/\(options.runs)  " + commands.map { kind, _, _ in
                "\(kind) " + String(format: "%.1f ms", results[kind]!.last! * 1000)
            }.joined(separator: "  "))
        }
        var rss: [Double] = []
        if let gnuTime {
            for _ in 0..<options.runs {
                rss.append(Double(try Measure.peakRSSKB(gnuTime: gnuTime, [options.mosaic, "fleet", "ps", "--json"], mosaicEnv, scratch: fleet.home)))
            }
        }
        if systemd { try await unloadUnits(fleet.names) }
        return FleetFigures(agents: count, floorMs: Measure.median(results["floor"]!) * 1000,
                            mosaicMs: Measure.median(results["mosaic"]!) * 1000,
                            naiveMs: results["naive"].map { Measure.median($0) * 1000 },
                            rssKB: rss.isEmpty ? nil : Measure.median(rss), tmuxCalls: calls.tmux,
                            systemctlCalls: calls.systemctl, upSeconds: upSeconds)
    }

    /// `fleet up` of `count` agents from nothing (tmux server start included), then `fleet down`.
    func measureUp(_ count: Int) async throws -> UpFigures {
        var figures = UpFigures(agents: count, up: [], down: [])
        for run in 0..<options.upRuns {
            let fleet = try BenchFleet(label: "up\(count)-\(run)", count: count, context: self, systemd: false)
            figures.up.append(try await fleet.up())
            _ = try await fleet.livePanes()
            figures.down.append(try await fleet.down())
            log(String(format: "fleet up %d agents: %.2f s, down %.2f s", count, figures.up.last!, figures.down.last!))
        }
        return figures
    }

    /// `fleet up` of `count` agents through the private user manager (mosaic installs its real
    /// units, replacing the bench's stand-in template: run after the ps measurements), then down.
    func measureUpSystemd(_ count: Int) async throws -> UpFigures {
        let fleet = try BenchFleet(label: "upsd\(count)", count: count, context: self, systemd: true)
        let up = try await fleet.up(via: "systemd")
        _ = try await fleet.livePanes()
        let down = try await fleet.down()
        log(String(format: "fleet up %d agents through systemd: %.2f s, down %.2f s", count, up, down))
        return UpFigures(agents: count, up: [up], down: [down])
    }
}
