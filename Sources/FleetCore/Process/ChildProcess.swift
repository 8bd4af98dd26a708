import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child that outlives one call, started with posix_spawn (clean signal mask, like
/// SpawnRunner) and reaped by this object alone, with waitpid on its own pid.
///
/// Why not Foundation's Process: it starts children with most signals blocked, and its
/// SIGCHLD monitor spun for ever in waitUntilExit when one of two long-lived children (a
/// systemd user manager and a test server) ended while the other ran. Nothing here installs a
/// signal handler, so children of this type and SpawnRunner's never see each other.
public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        case null
        /// A file, created (0600) if missing, appended to.
        case file(String)
        /// A descriptor of this process, duplicated into the child.
        case descriptor(Int32)
    }

    public let pid: pid_t
    /// The status waitpid reported, once it has; reaped exactly once, whoever asks first.
    private let waitStatus = Mutex<Int32?>(nil)

    /// Starts `invocation`'s program. Throws if it cannot be found or started.
    public init(_ invocation: Invocation, stdin: Stream = .null, stdout: Stream = .null, stderr: Stream = .null,
                newSession: Bool = false) throws {
        let env = invocation.effectiveEnvironment
        guard let path = SpawnRunner.resolve(invocation.executable, path: env["PATH"]) else {
            throw ProcessError.notFound(invocation.executable)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (stream, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            switch stream {
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let file):
                posix_spawn_file_actions_addopen(&actions, target, file, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            case .descriptor(let fd):
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        var pid: pid_t = 0
        let rc = SpawnRunner.spawn(&pid, path: path, argv: [invocation.executable] + invocation.arguments,
                                   environment: env, actions: &actions, newSession: newSession)
        guard rc == 0 else { throw ProcessError.spawnFailed(invocation.executable, errno: rc) }
        self.pid = pid
    }

    /// Reaps the child if it has ended; never blocks.
    private func poll() -> Int32? {
        waitStatus.withLock { waitStatus in
            if let waitStatus { return waitStatus }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { waitStatus = status }
            else if r < 0 && errno == ECHILD { waitStatus = 0 }
            return waitStatus
        }
    }

    public var isRunning: Bool { poll() == nil }

    /// The exit status, or 128 + the signal that ended it; nil while it runs.
    public var terminationStatus: Int32? {
        poll().map { status in
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
    }

    /// Sends `signal` unless the child has already been reaped (its pid may be reused).
    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits for the child to end, up to `timeout` (for ever if nil); true if it ended.
    @discardableResult
    public func wait(timeout: TimeInterval? = nil) -> Bool {
        // On the kernel's exit event (a pidfd), not a sleep loop; the reaping is poll()'s.
        let table = ProcessTable(host: LocalHost())
        if let timeout {
            _ = ProcessExit.wait(for: [pid], timeout: .milliseconds(Int64(max(0, timeout) * 1000)), table: table)
        } else {
            while isRunning { _ = ProcessExit.wait(for: [pid], timeout: .seconds(3600), table: table) }
        }
        return !isRunning
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; returns once the child is reaped.
    public func stop(grace: TimeInterval = 5) {
        signal(SIGTERM)
        if !wait(timeout: grace) {
            signal(SIGKILL)
            wait()
        }
    }
}
