import Foundation
import Testing
@testable import FleetCore

/// A throwaway fleet for one test: its own home, its own tmux socket (never the user's),
/// torn down (server killed, home removed) when the test ends, even when it fails.
final class TestFleet: @unchecked Sendable {
    private static let counter = Counter()
    let home: String
    let socket: String
    let runner = SpawnRunner()
    /// Extra environment for every `mosaic` call (MOSAIC_SYSTEMD=off unless a test says otherwise).
    var environment: [String: String?]

    init(systemd: Bool = false) throws {
        home = try Self.makeTempDirectory("mosaic-it")
        socket = "mosaic-test-\(getpid())-\(Self.counter.next())"
        environment = ["MOSAIC_HOME": home, "NO_COLOR": "1"]
        if !systemd { environment["MOSAIC_SYSTEMD"] = "off" }
    }

    deinit {
        // Kill the private server whatever happened; the socket name can never be the user's.
        let kill = Invocation("tmux", ["-L", socket, "kill-server"], timeout: .seconds(5))
        _ = try? SpawnRunner.runBlocking(kill)
        // kill-server leaves the socket file behind; it is this test's own, so it goes too.
        let tmpdir = ProcessInfo.processInfo.environment["TMUX_TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        unlink("\(tmpdir)/tmux-\(getuid())/\(socket)")
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
    static func processes(naming path: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != getpid(), ProcessTable().sample(pid)?.isZombie == false else { return false }
            return (FileIO.readSmall("/proc/\(pid)/cmdline", limit: 65536) ?? "").contains(path)
        }
    }

    static func makeTempDirectory(_ prefix: String) throws -> String {
        var template = Array("\(NSTemporaryDirectory())/\(prefix).XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw FileIO.Failure(path: prefix, reason: "mkdtemp failed") }
        return String(cString: dir)
    }

    /// The built `mosaic` binary next to the test bundle (or $MOSAIC_BIN).
    static var mosaicBinary: String {
        if let bin = ProcessInfo.processInfo.environment["MOSAIC_BIN"] { return bin }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // swift-testing may run from inside the .xctest bundle on Linux
        for _ in 0..<3 where !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("mosaic").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("mosaic").path
    }

    var paths: FleetPaths { FleetPaths(home: home) }
    var store: HeartbeatStore { HeartbeatStore(directory: paths.runDirectory) }

    /// Writes a roster on this fleet's socket. `agents` is the YAML list under `agents:`.
    func writeRoster(agents: String, interval: Int = 15, extra: String = "") throws {
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
    static func stubs(_ names: [String], runtime: String = "stub", command: String? = nil) -> String {
        names.map { name in
            "  - name: \(name)\n    runtime: \(runtime)\n" + (command.map { "    command: \"\($0)\"\n" } ?? "")
        }.joined()
    }

    /// Runs `mosaic` with this fleet's environment.
    @discardableResult
    func mosaic(_ args: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> ProcessResult {
        try await runner.run(Invocation(Self.mosaicBinary, args, environment: environment,
                                        standardInput: stdin.map { Data($0.utf8) }, timeout: timeout))
    }

    /// A tmux client on this fleet's socket, for looking at what mosaic did.
    var tmux: Tmux { Tmux(socket: try! TmuxSocket(socket), configFile: paths.tmuxConfig, runner: runner) }

    /// `fleet ps --json` parsed into objects.
    func ps(_ extra: [String] = []) async throws -> [[String: Any]] {
        let result = try await mosaic(["fleet", "ps", "--json"] + extra)
        guard let array = try JSONSerialization.jsonObject(with: result.standardOutput) as? [[String: Any]] else {
            Issue.record("fleet ps --json did not print an array: \(result.stdout) \(result.stderr)")
            return []
        }
        return array
    }

    func row(_ name: String, _ extra: [String] = []) async throws -> [String: Any]? {
        try await ps(extra).first { $0["name"] as? String == name && $0["kind"] as? String == "agent" }
    }

    /// Polls `condition` until it holds or `timeout` passes; a real signal, never a bare sleep.
    func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out after \(timeout) waiting until \(what)")
        throw CancellationError()
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
