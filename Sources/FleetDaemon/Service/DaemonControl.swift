import FleetCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts and stops the fleet daemon for `fleet up` / `fleet down`: through its unit where systemd
/// runs it, else as a detached process of its own session (it survives the terminal closing and
/// the tmux server dying). `MOSAIC_DAEMON=off` leaves it alone.
public struct DaemonControl: Sendable {
    public let context: FleetContext

    public init(context: FleetContext) { self.context = context }

    public enum Started: Equatable, Sendable {
        case alreadyRunning(pid: Int32)
        case startedUnit
        case spawned(pid: Int32)
        case disabled
    }

    public enum Stopped: Equatable, Sendable {
        case notRunning
        case stoppedUnit
        case signalled(pid: Int32)
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notReady(pid: Int32, log: String)
        case stillRunning(pid: Int32)

        public var description: String {
            switch self {
            case .notReady(let pid, let log):
                return "the fleet daemon (pid \(pid)) did not report ready within 15 s; see \(log)"
            case .stillRunning(let pid):
                return "the fleet daemon (pid \(pid)) did not stop within 10 s of SIGTERM; `kill -9 \(pid)` ends it"
            }
        }
    }

    var disabled: Bool { context.environment["MOSAIC_DAEMON"] == "off" }

    var unitInstalled: Bool {
        context.systemctl.isReachable && context.host.fileExists("\(context.unitDirectory)/\(FleetFiles.daemonUnit)")
    }

    /// Makes sure a daemon runs for this home; waits until it has adopted the running agents.
    public func ensureRunning() async throws -> Started {
        if disabled { return .disabled }
        if let pid = DaemonProbe.runningPid(context.paths) { return .alreadyRunning(pid: pid) }
        if unitInstalled {
            // Type=notify: `start` returns once the daemon said READY=1.
            try await context.systemctl.start([FleetFiles.daemonUnit])
            return .startedUnit
        }
        return .spawned(pid: try spawnDetached())
    }

    /// Starts `mosaic daemon` in a session of its own, its output appended to the daemon log, and
    /// waits for its READY=1 on a notify socket of our own: the same readiness systemd gets.
    func spawnDetached() throws -> Int32 {
        let paths = context.paths
        try FileIO.makeDirectory(paths.runDirectory, mode: 0o700)
        let notifyPath = "\(paths.runDirectory)/daemon-start-\(getpid()).notify"
        let fd = try bindDatagram(notifyPath)
        defer {
            close(fd)
            context.host.removeFile(notifyPath)
        }
        let invocation = Invocation(context.mosaicExecutable, ["daemon", "--home", paths.home],
                                    environment: ["NOTIFY_SOCKET": notifyPath, "WATCHDOG_USEC": nil, "WATCHDOG_PID": nil])
        let pid = try context.host.spawnDetached(invocation, log: paths.daemonLog)
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = Date().addingTimeInterval(15)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let waited = poll(&pollFD, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if waited < 0 && errno == EINTR { continue }
            guard waited > 0 else { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let message = String(decoding: buffer.prefix(n), as: UTF8.self)
            if message.split(separator: "\n").contains("READY=1") { return pid }
        }
        throw Failure.notReady(pid: pid, log: paths.daemonLog)
    }

    func bindDatagram(_ path: String) throws -> Int32 {
        context.host.removeFile(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard fd >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            if fd >= 0 { close(fd) }
            throw ProcessError.spawnFailed("mosaic daemon", errno: fd < 0 ? errno : ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw ProcessError.spawnFailed("mosaic daemon", errno: code)
        }
        return fd
    }

    /// Stops the daemon of this home, whichever way it runs; returns once it has exited.
    public func stop() async throws -> Stopped {
        if disabled { return .notRunning }
        if context.systemctl.isReachable,
           let unit = try await context.systemctl.listUnits([FleetFiles.daemonUnit]).first(where: { $0.name == FleetFiles.daemonUnit }),
           unit.isActive {
            try await context.systemctl.stop([FleetFiles.daemonUnit])
            try removeLockFile(waiting: .seconds(10), pid: nil)
            return .stoppedUnit
        }
        guard let pid = DaemonProbe.runningPid(context.paths), pid > 0 else {
            try removeLockFile(waiting: .zero, pid: nil)
            return .notRunning
        }
        context.host.signal(pid, SIGTERM)
        try removeLockFile(waiting: .seconds(10), pid: pid)
        return .signalled(pid: pid)
    }

    /// The kernel releases a daemon's flock when it exits, so taking the lock is the wait for
    /// it; holding it, the lock file is removed (nothing is left behind in the run directory). A
    /// daemon starting meanwhile finds the lock held and exits, as it would beside a running one.
    func removeLockFile(waiting timeout: Duration, pid: Int32?) throws {
        let path = context.paths.daemonLock
        guard context.host.fileExists(path) else { return }
        do {
            let lock = try FileLock(path: path, timeout: timeout)
            context.host.removeFile(path)
            lock.release()
        } catch FileLock.Failure.timedOut {
            if let pid { throw Failure.stillRunning(pid: pid) }
        }
    }
}

extension Journal {
    /// Writes events from a CLI verb; returns a warning to print when the journal could not take
    /// them (the verb's own work stands either way).
    public static func recordFromCLI(_ events: [JournalEvent], paths: FleetPaths) async -> String? {
        guard let first = events.first else { return nil }
        do {
            let (journal, moved) = try Journal.connect(path: paths.journal, tenant: first.tenant_id, host: first.host)
            _ = try await journal.append(events)
            return moved.map { JournalError.corrupt(path: paths.journal, movedTo: $0).description }
        } catch {
            return "not journaled: \(error)"
        }
    }
}
