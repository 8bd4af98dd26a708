import Foundation
import FleetCore

/// A private systemd user manager for one test: its own XDG_RUNTIME_DIR, XDG_CONFIG_HOME and HOME
/// (the manager reads its unit path from its own environment), started as `systemd --user` and
/// stopped by its pid afterwards, even when the test fails. Never the user's own manager: the
/// tests install units with the real fleet's names.
///
/// Measured on Debian 12 (systemd 252, no systemd as PID 1): `systemd --user` exits at once unless
/// /run/systemd/system exists, but keeps running once it is removed again; it answers within
/// ~0.3 s and stops (with its units) within ~1.2 s of SIGTERM. Started outside a logind session it
/// manages the root cgroup, so two such managers share cgroups (/app.slice/<unit>): stopping a
/// unit in one kills the same-named unit of the other. A lock file makes test runs take turns.
///
/// Unchecked Sendable: its only mutable state, `stopped`, is read and written under `lock`.
public final class UserManager: @unchecked Sendable {
    public struct Unavailable: Error, CustomStringConvertible { public var description: String }

    /// Where `systemd` may live; MOSAIC_TEST_SYSTEMD names another (or a missing one, to see the skip).
    public static let candidates = ProcessInfo.processInfo.environment["MOSAIC_TEST_SYSTEMD"].map { [$0] }
        ?? ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"]
    public static let lockPath = NSTemporaryDirectory() + "/mosaic-systemd-tests.lock"

    public let root: String
    /// The manager's process (a new one after `reboot()`).
    public var process: ChildProcess { lock.withLock { current } }
    public var pid: pid_t { process.pid }
    private var current: ChildProcess
    private let binary: String
    private let lockFile: LockFile
    private var stopped = false
    private let lock = NSLock()

    public var runtimeDirectory: String { "\(root)/runtime" }
    public var configHome: String { "\(root)/config" }
    public var home: String { "\(root)/home" }
    public var unitDirectory: String { "\(configHome)/systemd/user" }
    /// What `mosaic` and `systemctl` need to reach this manager and its unit directory.
    public var environment: [String: String] {
        ["XDG_RUNTIME_DIR": runtimeDirectory, "XDG_CONFIG_HOME": configHome, "HOME": home]
    }
    public var systemctl: Systemctl { Systemctl(runner: SpawnRunner(), environment: environment) }

    /// Why no manager can start on this machine (printed once), or nil when one can.
    public static let unavailableReason: String? = {
        do {
            try start().stop()
            return nil
        } catch {
            FileHandle.standardError.write(Data("FleetSystemdTests skipped: \(error)\n".utf8))
            return "\(error)"
        }
    }()

    /// With MOSAIC_REQUIRE_SYSTEMD=1 (CI) the tests run anyway, and fail with the reason.
    public static var canStart: Bool {
        unavailableReason == nil || ProcessInfo.processInfo.environment["MOSAIC_REQUIRE_SYSTEMD"] == "1"
    }

    /// Starts a manager and waits until it answers; throws `Unavailable` with the reason if it cannot.
    public static func start() throws -> UserManager {
        #if !os(Linux)
        throw Unavailable(description: "systemd exists only on Linux")
        #else
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Unavailable(description: "no systemd binary at \(candidates.joined(separator: " or "))")
        }
        let lockFile = try LockFile.take(lockPath)
        do {
            return try launch(binary, lockFile: lockFile)
        } catch {
            lockFile.release()
            throw error
        }
        #endif
    }

    private static func launch(_ binary: String, lockFile: LockFile) throws -> UserManager {
        let root = try TestFleet.makeTempDirectory("mosaic-sd")
        for dir in ["runtime", "config", "home"] {
            try FileIO.makeDirectory("\(root)/\(dir)", mode: 0o700)
        }
        return try withMarker {
            let process: ChildProcess
            do {
                process = try spawn(binary, root: root)
            } catch {
                try? FileManager.default.removeItem(atPath: root)
                throw error
            }
            let manager = UserManager(root: root, process: process, binary: binary, lockFile: lockFile)
            lockFile.record("\(getpid()) \(manager.pid)")
            do {
                try manager.waitUntilAnswering(process)
            } catch {
                manager.stop()
                throw error
            }
            return manager
        }
    }

    /// A reboot as this user's manager sees one: the manager stops (taking every unit, and with the
    /// holder the fleet's tmux server), its runtime directory is emptied as a reboot's tmpfs would
    /// be, and a new manager starts on the same configuration, running what is enabled.
    public func reboot() throws {
        let old = process
        old.stop(grace: 10)
        let runtime = runtimeDirectory
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: runtime)) ?? [] {
            try? FileManager.default.removeItem(atPath: "\(runtime)/\(entry)")
        }
        try Self.withMarker {
            let next = try Self.spawn(binary, root: root)
            lock.withLock { current = next }
            lockFile.record("\(getpid()) \(next.pid)")
            try waitUntilAnswering(next)
        }
    }

    /// Runs `body` (a manager's start, until it answers) with /run/systemd/system present.
    private static func withMarker<T>(_ body: () throws -> T) throws -> T {
        let marker = "/run/systemd/system"
        var createdMarker = false
        if !FileManager.default.fileExists(atPath: marker) {
            do { try FileManager.default.createDirectory(atPath: marker, withIntermediateDirectories: true) } catch {
                throw Unavailable(description: "systemd --user needs \(marker), which could not be created: \(error)")
            }
            createdMarker = true
        }
        // Only needed while the manager starts: while it exists, other programs (apt's
        // deb-systemd-invoke) believe systemd is PID 1.
        defer { if createdMarker { rmdir(marker) } }
        return try body()
    }

    /// Starts `systemd --user` on `root`'s directories, with exactly the environment it needs.
    private static func spawn(_ binary: String, root: String) throws -> ChildProcess {

        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("MOSAIC_") && !key.hasPrefix("TMUX") && !key.hasPrefix("XDG_")
                && !["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "INVOCATION_ID", "JOURNAL_STREAM",
                     "MANAGERPID", "DBUS_SESSION_BUS_ADDRESS"].contains(key)
        }
        env["XDG_RUNTIME_DIR"] = "\(root)/runtime"
        env["XDG_CONFIG_HOME"] = "\(root)/config"
        env["HOME"] = "\(root)/home"
        // Every inherited variable not in `env` is removed: the manager sees exactly `env`.
        var changes: [String: String?] = Dictionary(uniqueKeysWithValues: ProcessInfo.processInfo.environment.keys.map { ($0, nil) })
        for (key, value) in env { changes[key] = value }
        let logPath = "\(root)/manager.log"
        // A posix_spawned child reaped by its own pid, not Foundation's Process: see ChildProcess.
        do {
            return try ChildProcess(Invocation(binary, ["--user"], environment: changes), stdout: .file(logPath), stderr: .file(logPath))
        } catch {
            throw Unavailable(description: "could not run \(binary) --user: \(error)")
        }
    }

    private func waitUntilAnswering(_ process: ChildProcess) throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if !process.isRunning {
                let text = FileIO.readSmall("\(root)/manager.log") ?? ""
                throw Unavailable(description: "systemd --user exited with status \(process.terminationStatus ?? -1): \(text.suffix(400))")
            }
            if FileManager.default.fileExists(atPath: "\(root)/runtime/systemd/private"),
               ["running", "degraded"].contains(systemState()) {
                return
            }
            usleep(20_000)
        }
        throw Unavailable(description: "systemd --user did not answer within 15 s")
    }

    private init(root: String, process: ChildProcess, binary: String, lockFile: LockFile) {
        self.root = root
        current = process
        self.binary = binary
        self.lockFile = lockFile
    }

    deinit { stop() }

    /// What `systemctl --user is-system-running` answers (`running`, `degraded`, …), nil if it
    /// did not answer within 5 s.
    public func systemState() -> String? {
        let out = "\(root)/is-system-running.out"
        unlink(out)
        guard TestFleet.runQuietly(systemctl.invocation(["is-system-running"]), timeout: 5, stdout: .file(out)) != nil else { return nil }
        return FileIO.readSmall(out)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// SIGTERM to the manager (it stops its units, and with them the fleet's tmux server), then
    /// SIGKILL if it lingers; removes its directories and releases the lock. Safe to call twice.
    public func stop() {
        let already = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        if already { return }
        process.stop(grace: 10)
        try? FileManager.default.removeItem(atPath: root)
        lockFile.release()
    }

    /// Runs `body` with a fresh manager and stops it whatever happens.
    /// Taking the cross-run lock, starting and stopping a manager block for seconds (flock turns,
    /// polls for readiness): they run on threads of their own, never on the few threads of the
    /// concurrency pool that every other test shares (2 on this machine: two waiters starved all).
    public static func with<T>(_ body: (UserManager) async throws -> T) async throws -> T {
        let manager = try await onThread { try start() }
        do {
            let result = try await body(manager)
            await onThread { manager.stop() }
            return result
        } catch {
            await onThread { manager.stop() }
            throw error
        }
    }

    public static func onThread<R: Sendable>(_ work: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    public static func onThread(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { work(); continuation.resume() }
        }
    }
}

/// An flock(2)ed file that makes test runs take turns with their managers. It records
/// "<test pid> <manager pid>", so a run that died leaves a manager the next run can stop.
/// Unchecked Sendable: `released` is read and written under `lock`; `fd` is immutable.
final class LockFile: @unchecked Sendable {
    let fd: Int32
    private var released = false
    private let lock = NSLock()

    private init(fd: Int32) { self.fd = fd }

    /// Waits (bounded) for other runs; stops a manager left by a run that died.
    static func take(_ path: String) throws -> LockFile {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw UserManager.Unavailable(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(600)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else {
                close(fd)
                throw UserManager.Unavailable(description: "another test run held \(path) for 10 minutes")
            }
            usleep(100_000)
        }
        let file = LockFile(fd: fd)
        file.reapOrphan()
        return file
    }

    func record(_ text: String) {
        let line = text + "\n"
        _ = line.withCString { pwrite(fd, $0, strlen($0), 0) }
        ftruncate(fd, off_t(line.utf8.count))
    }

    func release() {
        let already = lock.withLock { () -> Bool in
            defer { released = true }
            return released
        }
        if already { return }
        ftruncate(fd, 0)
        close(fd)
    }

    /// A record whose test process is gone names an orphaned manager: stop it, by its pid.
    private func reapOrphan() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return }
        let pids = String(decoding: buffer[0..<n], as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
        guard pids.count == 2, kill(pids[0], 0) != 0, kill(pids[1], 0) == 0 else { return }
        let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pids[1])/cmdline"))) ?? Data()
        let argv = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if argv.first.map({ UserManager.candidates.contains($0) }) == true, argv.contains("--user") { kill(pids[1], SIGTERM) }
    }
}
