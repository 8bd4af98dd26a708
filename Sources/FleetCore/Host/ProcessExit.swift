import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waiting for any process to end, child or not: a pidfd (Linux 5.3+) becomes readable when its
/// process exits, so one poll(2) over all of them waits on the kernel's event.
enum ProcessExit {
    private typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    /// glibc's pidfd_open (2.36+), from the default symbol scope: not exported to Swift here.
    private static let pidfdOpen: PidfdOpen? = dlsym(nil, "pidfd_open").map { unsafeBitCast($0, to: PidfdOpen.self) }

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
