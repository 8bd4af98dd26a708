import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension FleetPaths {
    /// The event journal (SQLite, WAL) of this fleet home.
    public var journal: String { "\(fleetDirectory)/journal.sqlite" }
    /// The daemon's HTTP API (a unix socket, mode 0600, in the 0700 run directory).
    public var daemonSocket: String { "\(runDirectory)/daemon.sock" }
    /// Held (flock) by the running daemon; holds its pid.
    public var daemonLock: String { "\(runDirectory)/daemon.lock" }
    /// The detached daemon's output, where no systemd unit runs it.
    public var daemonLog: String { "\(fleetDirectory)/daemon.log" }
}

/// Whether a fleet daemon runs for a home, read from its lock without talking to it.
public enum DaemonProbe {
    /// The pid of the running daemon, or nil when none holds the lock.
    public static func runningPid(_ paths: FleetPaths) -> Int32? {
        isHeld(paths.daemonLock) ? holder(paths.daemonLock) ?? 0 : nil
    }

    /// The pid the lock file names (a running daemon's, or a dead one's: check `isHeld`).
    public static func holder(_ path: String) -> Int32? {
        FileIO.readSmall(path).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Whether some process holds the lock now (probed with a non-blocking flock of our own).
    public static func isHeld(_ path: String) -> Bool { FileIO.isLocked(path) }
}
