import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Waiting for any process to end, child or not: a pidfd (Linux 5.3+) becomes readable when its
/// process exits, so one poll(2) over all of them waits on the kernel's event.
enum ProcessExit {
    typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    /// glibc's pidfd_open (2.36+), from the default symbol scope: not exported to Swift here.
    static let pidfdOpen: PidfdOpen? = dlsym(nil, "pidfd_open").map { unsafeBitCast($0, to: PidfdOpen.self) }

    static func wait(for pids: [Int32], timeout: Duration, table: ProcessTable) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        func running(_ pid: Int32) -> Bool { table.sample(pid).map { !$0.isZombie } ?? false }
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        var unwatched: [Int32] = []
        for pid in pids {
            if let open = pidfdOpen, case let fd = open(pid, 0), fd >= 0 { fds.append(fd) }
            else if running(pid) { unwatched.append(pid) }
        }
        while true {
            // A pidfd is also readable for a zombie: the process has ended.
            var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            unwatched = unwatched.filter(running)
            let now = clock.now
            if entries.isEmpty && unwatched.isEmpty { return true }
            guard now < deadline else { return false }
            // Without pidfds (an old kernel), /proc is looked at every 5 ms.
            let waitMs = unwatched.isEmpty ? Int32((deadline - now).milliseconds.rounded(.up)) : 5
            let ready = poll(&entries, nfds_t(entries.count), max(1, min(waitMs, Int32((deadline - now).milliseconds.rounded(.up)))))
            if ready < 0 && errno != EINTR { return false }
            let ended = Set(entries.filter { $0.revents != 0 }.map(\.fd))
            for fd in ended { close(fd) }
            fds.removeAll { ended.contains($0) }
        }
    }
}

/// This process's limit on open descriptors (RLIMIT_NOFILE). systemd starts user services with a
/// soft limit of 1024 and expects a program that needs more to raise it to the hard limit itself;
/// the daemon does, since it holds a pidfd per agent.
public enum OpenFileLimit {
    public static var soft: UInt64 {
        var limit = rlimit()
        return getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? UInt64(limit.rlim_cur) : 1024
    }

    /// Raises the soft limit to the hard one (at most `ceiling`); returns the soft limit after.
    @discardableResult
    public static func raise(ceiling: UInt64 = 65536) -> UInt64 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let wanted = min(UInt64(limit.rlim_max), ceiling)
        if UInt64(limit.rlim_cur) < wanted {
            limit.rlim_cur = rlim_t(wanted)
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        return soft
    }
}

/// Follows the ends of a changing set of processes (see `Host.exitWatch`): one pidfd per process
/// and a wake pipe, polled by a thread of its own, so a process's end is known the moment the
/// kernel makes it a zombie, whoever its parent is and whether or not the parent reaps it.
final class LocalExitWatch: ExitWatch, Sendable {
    private struct State {
        var wanted: Set<Int32> = []
        var stopped = false
    }
    private let state = Mutex(State())
    private let wake: [Int32]
    private let onExit: @Sendable (Int32) -> Void

    /// Nil where pidfds are missing (glibc before 2.36, a kernel before 5.3) or no pipe can be made.
    init?(onExit: @escaping @Sendable (Int32) -> Void) {
        var pipe: [Int32] = [-1, -1]
        guard ProcessExit.pidfdOpen != nil, SpawnRunner.makePipe(&pipe) else { return nil }
        wake = pipe
        _ = fcntl(wake[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(wake[1], F_SETFL, O_NONBLOCK)
        self.onExit = onExit
        let thread = Thread { [self] in run() }
        thread.start()
    }

    func watch(_ pids: Set<Int32>) {
        state.withLock { $0.wanted = pids.filter { $0 > 1 } }
        poke()
    }

    func stop() {
        state.withLock { $0.stopped = true }
        poke()
    }

    deinit {
        close(wake[0])
        close(wake[1])
    }

    private func poke() {
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
    }

    private func run() {
        guard let open = ProcessExit.pidfdOpen else { return }
        var fds: [Int32: Int32] = [:]   // pid → pidfd
        var ended: Set<Int32> = []      // reported, kept until no longer wanted (never twice)
        // The wake pipe stays open until deinit: `watch` and `stop` may still write to it after
        // this thread ended, and a closed descriptor's number is soon another file's.
        defer { fds.values.forEach { close($0) } }
        while true {
            let (wanted, stopped) = state.withLock { ($0.wanted, $0.stopped) }
            if stopped { return }
            for (pid, fd) in fds where !wanted.contains(pid) { close(fd); fds[pid] = nil }
            ended.formIntersection(wanted)
            var gone: [Int32] = []
            // Descriptors are shared with everything else the process does (sockets, pipes to
            // children, the journal): pidfds never take the last 512 of them.
            let budget = Int(min(OpenFileLimit.soft, UInt64(Int32.max))) - 512
            for pid in wanted where fds[pid] == nil && !ended.contains(pid) && fds.count < budget {
                let fd = open(pid, 0)
                // ESRCH: it ended before it could be followed (reaped already); EMFILE: over the
                // descriptor limit, so this one is left to the caller's other sources.
                if fd >= 0 { fds[pid] = fd } else if errno == ESRCH { gone.append(pid) }
            }
            for pid in gone { ended.insert(pid); onExit(pid) }
            let order = Array(fds.keys)
            var entries = [pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
                + order.map { pollfd(fd: fds[$0]!, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&entries, nfds_t(entries.count), -1)
            if ready < 0 { if errno == EINTR { continue } else { return } }
            if entries[0].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(wake[0], &sink, sink.count) > 0 {}
            }
            for (index, pid) in order.enumerated() where entries[index + 1].revents != 0 {
                close(fds[pid]!)
                fds[pid] = nil
                ended.insert(pid)
                onExit(pid)
            }
        }
    }
}
