import Foundation
import FleetCore

/// A throwaway fleet for one test (and for one size of the benchmark, mosaic-bench): its own
/// home, its own tmux socket (never the user's), torn down (server killed, home removed) when it
/// is released, even when the test fails. The Swift Testing parts (`ps`, `row`, `waitUntil`)
/// live with the integration tests, so the benchmark does not link Testing.
///
/// Unchecked Sendable: `environment` is set up before the fleet is shared, as it always was.
public final class TestFleet: @unchecked Sendable {
    private static let counter = Counter()
    public let home: String
    public let socket: String
    public let runner = SpawnRunner()
    /// The `mosaic` this fleet runs (`TestFleet.mosaicBinary` unless the caller names another).
    public let binary: String
    /// Extra environment for every `mosaic` call (MOSAIC_SYSTEMD=off unless a test says otherwise).
    public var environment: [String: String?]

    /// `socketPrefix` names the socket `<prefix>-<pid>-<n>`; never empty, never `default`.
    public init(systemd: Bool = false, socketPrefix: String = "mosaic-test", binary: String = TestFleet.mosaicBinary) throws {
        home = try Self.makeTempDirectory("mosaic-it")
        socket = "\(socketPrefix)-\(getpid())-\(Self.counter.next())"
        self.binary = binary
        environment = ["MOSAIC_HOME": home, "NO_COLOR": "1"]
        if !systemd { environment["MOSAIC_SYSTEMD"] = "off" }
        // `fleet up` would start a fleet daemon that supervises (and under systemd, outlives) the
        // test's fleet; the daemon's own tests opt in with `withDaemon()`.
        environment["MOSAIC_DAEMON"] = "off"
    }

    /// Where tmux puts the socket of a server started with `-L name`.
    public static func socketFile(_ name: String) -> String {
        let tmpdir = ProcessInfo.processInfo.environment["TMUX_TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return "\(tmpdir)/tmux-\(getuid())/\(name)"
    }

    deinit {
        // Kill the private server whatever happened; the socket name can never be the user's.
        let kill = Invocation("tmux", ["-L", socket, "kill-server"], timeout: .seconds(5))
        Self.runQuietly(kill, timeout: 5)
        // kill-server leaves the socket file behind; it is this test's own, so it goes too.
        unlink(Self.socketFile(socket))
        // A runtime may outlive its pane for a moment (Claude Code writes its state as it dies of
        // SIGHUP, and recreated a removed home after a failed test): wait for every process that
        // names this home, then kill what is left, before removing it.
        let deadline = Date().addingTimeInterval(5)
        while !Self.processes(naming: home).isEmpty, Date() < deadline { usleep(50_000) }
        for pid in Self.processes(naming: home) { Glibc.kill(pid, SIGKILL) }
        for _ in 0..<20 {
            do { try FileManager.default.removeItem(atPath: home); break } catch {
                if !FileManager.default.fileExists(atPath: home) { break }
                usleep(50_000)
            }
        }
    }

    /// Live processes whose command line names `path` (a runtime launched for a test's home).
    public static func processes(naming path: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != getpid(), ProcessTable().sample(pid)?.isZombie == false else { return false }
            return (FileIO.readSmall("/proc/\(pid)/cmdline", limit: 65536) ?? "").contains(path)
        }
    }

    public static func makeTempDirectory(_ prefix: String) throws -> String {
        var template = Array("\(NSTemporaryDirectory())/\(prefix).XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw FileIO.Failure(path: prefix, reason: "mkdtemp failed") }
        return String(cString: dir)
    }

    /// The built `mosaic` binary next to the test bundle (or $MOSAIC_BIN).
    public static var mosaicBinary: String {
        if let bin = ProcessInfo.processInfo.environment["MOSAIC_BIN"] { return bin }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // swift-testing may run from inside the .xctest bundle on Linux
        for _ in 0..<3 where !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("mosaic").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("mosaic").path
    }

    public var paths: FleetPaths { FleetPaths(home: home) }
    public var store: HeartbeatStore { HeartbeatStore(directory: paths.runDirectory) }

    /// Writes a roster on this fleet's socket. `agents` is the YAML list under `agents:`.
    public func writeRoster(agents: String, interval: Int = 15, extra: String = "") throws {
        try FileIO.makeDirectory(paths.fleetDirectory, mode: 0o755)
        let text = """
        version: 1
        tenant: testers
        host: test-host
        tmux:
          socketName: \(socket)
        heartbeat:
          intervalSeconds: \(interval)
        \(extra)agents:
        \(agents)
        """
        try FileIO.writeAtomically(text, to: paths.roster)
    }

    /// Stub agents named `names`, in roster YAML.
    public static func stubs(_ names: [String], runtime: String = "stub", command: String? = nil) -> String {
        names.map { name in
            "  - name: \(name)\n    runtime: \(runtime)\n" + (command.map { "    command: \"\($0)\"\n" } ?? "")
        }.joined()
    }

    /// Runs `mosaic` with this fleet's environment.
    @discardableResult
    public func mosaic(_ args: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> ProcessResult {
        try await runner.run(Invocation(binary, args, environment: environment,
                                        standardInput: stdin.map { Data($0.utf8) }, timeout: timeout))
    }

    /// A tmux client on this fleet's socket, for looking at what mosaic did.
    public var tmux: Tmux { Tmux(socket: try! TmuxSocket(socket), configFile: paths.tmuxConfig, runner: runner) }

    /// Runs `invocation` to its end (or `timeout` seconds, then kills it), output discarded;
    /// its exit status, nil if it could not start or was killed. For teardown, where nothing awaits.
    @discardableResult
    public static func runQuietly(_ invocation: Invocation, timeout: TimeInterval, stdout: ChildProcess.Stream = .null) -> Int32? {
        guard let child = try? ChildProcess(invocation, stdout: stdout) else { return nil }
        guard child.wait(timeout: timeout) else {
            child.stop(grace: 1)
            return nil
        }
        return child.terminationStatus
    }
}

/// Unchecked Sendable: `value` is only read and written under `lock`.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
