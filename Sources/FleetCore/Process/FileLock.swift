import Foundation
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

    /// Waits up to `timeout` for the lock, polling every few milliseconds.
    public init(path: String, timeout: Duration) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, clock.now < deadline else {
                let reason = errno == EWOULDBLOCK ? nil : String(cString: strerror(errno))
                close(fd)
                fd = -1
                if let reason { throw Failure.cannotOpen(path: path, reason: reason) }
                throw Failure.timedOut(path: path, after: timeout)
            }
            usleep(3000)
        }
    }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
