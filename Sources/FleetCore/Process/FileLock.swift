import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Serializes everything that types into one agent's pane: an exclusive flock(2) on
/// `<run>/<agent>.send.lock`, held from the draft check until the verdict. The kernel drops the
/// lock when its holder exits, however it exits, so a killed sender never blocks the next one.
public final class SendLock {
    public let path: String
    private var fd: Int32

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case cannotOpen(path: String, reason: String)
        case timedOut(path: String, after: Duration)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason):
                return "cannot open the send lock \(path): \(reason); does the run directory exist (`mosaic fleet up`)?"
            case .timedOut(let path, let after):
                return "another send to this agent still holds \(path) after \(after); retry, or raise --lock-timeout"
            }
        }
    }

    public static func path(runDirectory: String, agent: String) -> String { "\(runDirectory)/\(agent).send.lock" }

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
