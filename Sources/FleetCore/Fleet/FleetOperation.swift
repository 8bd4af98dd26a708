import Foundation

/// Changes to a fleet's agents never interleave. `fleet up`, `down` and `restart`, `agent new`
/// and `rm` hold `<home>/fleet/operations.lock` from their first look at the fleet until they have
/// journaled what they did; the daemon's supervisor holds it from its snapshot to its last start.
/// So the daemon never reads the gap in a `fleet restart` (down, then up) as a death, nor starts
/// an agent an operator is stopping this very moment: it either sees the fleet before the verb,
/// or after it together with the verb's journaled intent.
///
/// The file lives beside the roster and the journal, not in the run directory that `fleet down`
/// empties: removing a lock file others may be waiting on would let two holders in. The systemd
/// units' own entry points (`internal launch|stop`) never take it: they run inside a verb that holds it.
public enum FleetOperation {
    /// Waits up to `timeout` for the lock (a CLI verb: another verb or the daemon's step is short).
    public static func lock(_ paths: FleetPaths, timeout: Duration = .seconds(60)) throws -> FileLock {
        try prepare(paths)
        return try FileLock(path: paths.operationsLock, timeout: timeout)
    }

    /// The lock if it is free now, else nil (the daemon: it looks again shortly instead of waiting).
    public static func tryLock(_ paths: FleetPaths) throws -> FileLock? {
        try prepare(paths)
        do {
            return try FileLock(path: paths.operationsLock, timeout: .zero)
        } catch FileLock.Failure.timedOut {
            return nil
        }
    }

    static func prepare(_ paths: FleetPaths) throws {
        try FileIO.ensureDirectory(paths.fleetDirectory, mode: 0o755)
    }
}

extension FleetPaths {
    /// Held while a verb or the daemon changes which agents run (see `FleetOperation`).
    public var operationsLock: String { "\(fleetDirectory)/operations.lock" }
}
