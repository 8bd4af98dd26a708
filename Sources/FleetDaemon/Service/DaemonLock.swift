import FleetCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per fleet home and host: an flock on `<run>/daemon.lock`, which also holds the pid
/// of its holder. The kernel drops the lock when the daemon exits however it exits (SIGKILL too).
public final class DaemonLock {
    let lock: FileLock
    public let path: String

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Another daemon holds the lock; its pid, if it could be read.
        case held(path: String, pid: Int32?)

        public var description: String {
            switch self {
            case .held(let path, let pid):
                return "a fleet daemon already runs for this home" + (pid.map { " (pid \($0))" } ?? "")
                    + ", holding \(path); stop it first (`mosaic fleet down`, or `kill \(pid.map(String.init) ?? "<pid>")`)"
            }
        }
    }

    /// Takes the lock at once or throws `.held`; never waits.
    public init(path: String, pid: Int32 = getpid()) throws {
        self.path = path
        do {
            lock = try FileLock(path: path, timeout: .zero)
        } catch FileLock.Failure.timedOut {
            throw Failure.held(path: path, pid: Self.holder(path))
        }
        // The pid is written beside the lock (the lock is on the open file, not on its bytes).
        try FileIO.writeInPlace("\(pid)\n", to: path)
    }

    public static func holder(_ path: String) -> Int32? { DaemonProbe.holder(path) }
    public static func isHeld(_ path: String) -> Bool { DaemonProbe.isHeld(path) }

    public func release() { lock.release() }
}
