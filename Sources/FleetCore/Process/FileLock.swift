import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive flock(2) on a lock file, waited for with a bound. The kernel drops the lock when
/// its holder exits, however it exits, so a killed holder never blocks the next one. Used for
/// everything that must not interleave per agent: sends into its pane (`<agent>.send.lock`) and
/// updates of its runtime state by concurrent hooks (`<agent>.state.lock`).
public final class FileLock {
    public let path: String
    private var fd: Int32

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case cannotOpen(path: String, reason: String)
        case timedOut(path: String, after: Duration)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason):
                return "cannot open the lock \(path): \(reason); does the run directory exist (`mosaic fleet up`)?"
            case .timedOut(let path, let after):
                return "another mosaic process still holds \(path) after \(after); retry"
            }
        }
    }

    /// Waits up to `timeout` for the lock. The wait is the kernel's: a helper thread blocks in
    /// flock(2) and says so through a pipe the caller waits on with poll(2); a helper that gets
    /// the lock after the caller gave up closes it at once.
    public init(path: String, timeout: Duration) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK || errno == EINTR else { throw fail(reason: String(cString: strerror(errno))) }
        // No wait asked for: no helper either. An abandoned helper would take the lock the moment
        // its holder lets go and keep it until it noticed, refusing the next caller for nothing.
        if timeout <= .zero {
            close(fd)
            fd = -1
            throw Failure.timedOut(path: path, after: timeout)
        }
        var done: [Int32] = [-1, -1]
        guard SpawnRunner.makePipe(&done) else { throw fail(reason: String(cString: strerror(errno))) }
        // The helper gets its own descriptor (same open file description, so the same lock).
        // Close-on-exec like the original: a plain dup is inherited by any child spawned meanwhile
        // (a tmux server, a user manager), which would then hold the lock for as long as it lives.
        let helperFD = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        let (readEnd, writeEnd) = (done[0], done[1])
        let outcome = Mutex(Outcome.waiting)
        Thread.detachNewThread {
            var rc: Int32
            repeat { rc = flock(helperFD, LOCK_EX) } while rc != 0 && errno == EINTR
            let code = rc == 0 ? 0 : errno
            let abandoned = outcome.withLock { state -> Bool in
                if case .abandoned = state { return true }
                state = code == 0 ? .locked : .failed(code)
                return false
            }
            close(helperFD)
            if abandoned { close(writeEnd); return }
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
            close(writeEnd)
        }
        defer { close(readEnd) }
        var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            let ms = left <= .zero ? 0 : Int32(min(left.milliseconds.rounded(.up), Double(Int32.max)))
            let ready = poll(&entry, 1, ms)
            if ready < 0 && errno == EINTR { continue }
            break
        }
        let result = outcome.withLock { state -> Outcome in
            if case .waiting = state { state = .abandoned; return .abandoned }
            return state
        }
        switch result {
        case .locked: return
        case .failed(let code): throw fail(reason: String(cString: strerror(code)))
        case .waiting, .abandoned:
            // Closing our descriptor while the helper still waits: the helper's flock, if it
            // ever succeeds, is released when it closes its own.
            close(fd)
            fd = -1
            throw Failure.timedOut(path: path, after: timeout)
        }
    }

    private enum Outcome { case waiting, locked, failed(Int32), abandoned }

    private func fail(reason: String) -> Failure {
        close(fd)
        fd = -1
        return Failure.cannotOpen(path: path, reason: reason)
    }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
