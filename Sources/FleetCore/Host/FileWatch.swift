import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Wakes waiters when a file in one directory is written, created, moved in or removed: inotify
/// on this host, read by a thread of its own that blocks in poll(2), so nothing polls on a
/// timer. Waiters re-read the files they care about; a change is a generation number, so one
/// that lands between a reader's check and its wait is never lost (`wait(after:timeout:)`
/// returns at once for it). `names` narrows the watch to some files of the directory: the run
/// directory holds every agent's heartbeat, and one agent's waiter need not wake for the others.
public final class FileWatch: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        /// Waiters not yet answered (registered or about to be), and those cancelled before they registered.
        var active: Set<Int> = []
        var cancelled: Set<Int> = []
        /// Write ends of the pipes that threads blocked in `waitBlocking` poll.
        var blocked: [Int: Int32] = [:]
    }

    private let state = Mutex(State())
    /// The write end of the pipe that tells the reader thread to close up; -1 for a fake's watch.
    private let stopFD: Int32

    /// Whether this watch looks at the files every `pollInterval` instead of being told by
    /// inotify: the user's inotify instances or watches are all taken (`fs.inotify.max_user_instances`
    /// is 128 by default, and every agent's heartbeat responder holds one).
    public let polling: Bool
    public static let pollInterval: Duration = .milliseconds(200)

    /// Watches `directory` (only the files in `names`, if given). Throws if it cannot be watched.
    public init(directory: String, names: Set<String>? = nil) throws {
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY)
        var stop: [Int32] = [-1, -1]
        guard SpawnRunner.makePipe(&stop) else {
            throw FileIO.Failure(path: directory, reason: "cannot watch: \(String(cString: strerror(errno)))")
        }
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        var failure = fd < 0 ? errno : 0
        if fd >= 0, inotify_add_watch(fd, directory, mask) < 0 {
            failure = errno
            close(fd)
        }
        // Out of inotify instances (EMFILE) or watches (ENOSPC): look at the files instead.
        // Any other failure (no such directory, no permission) is the caller's to hear.
        let poll = failure == EMFILE || failure == ENOSPC || failure == ENFILE || failure == ENOMEM
        guard failure == 0 || poll, !poll || Self.isDirectory(directory) else {
            close(stop[0])
            close(stop[1])
            throw FileIO.Failure(path: directory, reason: "cannot watch: \(String(cString: strerror(failure)))")
        }
        polling = poll
        stopFD = stop[1]
        let stopRead = stop[0]
        if poll {
            Thread.detachNewThread { [weak self] in
                defer { close(stopRead) }
                var last = Self.signature(directory: directory, names: names)
                var entry = pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0)
                while true {
                    let ready = Glibc.poll(&entry, 1, Int32(Self.pollInterval.milliseconds))
                    if ready < 0 && errno == EINTR { continue }
                    if ready != 0 { return }
                    let now = Self.signature(directory: directory, names: names)
                    guard let watch = self else { return }
                    if now != last { last = now; watch.changed() }
                }
            }
            return
        }
        Thread.detachNewThread { [weak self] in
            defer { close(fd); close(stopRead) }
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0)]
                let ready = Glibc.poll(&fds, 2, -1)
                if ready < 0 { if errno == EINTR { continue }; return }
                if fds[1].revents != 0 { return }
                let n = read(fd, &buffer, buffer.count)
                if n < 0 { if errno == EINTR { continue }; return }
                guard let watch = self else { return }
                if Self.matters(buffer[0..<n], names: names) { watch.changed() }
            }
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// What polling compares: each watched file's inode, size and modification time (the
    /// directory's own entries when no names are given).
    static func signature(directory: String, names: Set<String>?) -> [String: [Int64]] {
        let files = names.map(Array.init) ?? ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []) + ["."]
        var result: [String: [Int64]] = [:]
        for name in files {
            var info = stat()
            guard stat("\(directory)/\(name)", &info) == 0 else { continue }
            result[name] = [Int64(info.st_ino), Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)]
        }
        return result
    }

    /// Whether a batch of inotify events names a file of interest (`struct inotify_event`:
    /// wd, mask, cookie, len, then `len` bytes of NUL-padded name).
    static func matters(_ events: ArraySlice<UInt8>, names: Set<String>?) -> Bool {
        guard let names else { return !events.isEmpty }
        var i = events.startIndex
        while i + 16 <= events.endIndex {
            let len = Int(events[i + 12]) | Int(events[i + 13]) << 8 | Int(events[i + 14]) << 16 | Int(events[i + 15]) << 24
            let nameBytes = events[(i + 16)..<min(i + 16 + len, events.endIndex)].prefix { $0 != 0 }
            if names.contains(String(decoding: nameBytes, as: UTF8.self)) { return true }
            i += 16 + len
        }
        return false
    }

    /// A watch that only `changed()` wakes (a fake host's).
    public init() {
        stopFD = -1
        polling = false
    }

    deinit {
        if stopFD >= 0 {
            var byte: UInt8 = 1
            _ = write(stopFD, &byte, 1)
            close(stopFD)
        }
        let waiters = state.withLock { state in
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    /// The number of changes seen so far.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Records a change and wakes every waiter.
    public func changed() {
        let waiters = state.withLock { state in
            state.generation += 1
            for fd in state.blocked.values {
                var byte: UInt8 = 1
                _ = write(fd, &byte, 1)
            }
            state.active.subtract(state.waiters.keys)
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits until the generation passes `seen` or `timeout` passes; true if something changed.
    public func wait(after seen: UInt64, timeout: Duration) async -> Bool {
        guard timeout > .zero else { return generation > seen }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.next(after: seen) }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch {}
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// `wait(after:timeout:)` for a thread that must not suspend (the sidecar's loop): it blocks
    /// in poll(2) on a pipe that `changed()` writes to.
    public func waitBlocking(after seen: UInt64, timeout: Duration) -> Bool {
        var pipe: [Int32] = [-1, -1]
        guard timeout > .zero, SpawnRunner.makePipe(&pipe) else { return generation > seen }
        defer { close(pipe[0]) }
        let id: Int? = state.withLock { state in
            guard state.generation <= seen else { return nil }
            defer { state.nextWaiter += 1 }
            state.blocked[state.nextWaiter] = pipe[1]
            return state.nextWaiter
        }
        guard let id else {
            close(pipe[1])
            return true
        }
        var entry = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { break }
            let ready = poll(&entry, 1, Int32(min(left.milliseconds.rounded(.up), 3_600_000)))
            if ready < 0 && errno == EINTR { continue }
            break
        }
        state.withLock { state in
            if let fd = state.blocked.removeValue(forKey: id) { close(fd) }
        }
        return generation > seen
    }

    private func next(after seen: UInt64) async -> Bool {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            state.active.insert(state.nextWaiter)
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer: Bool? = state.withLock { state in
                    if state.generation > seen { state.active.remove(id); return true }
                    if state.cancelled.remove(id) != nil { state.active.remove(id); return false }
                    state.waiters[id] = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) {
                    state.active.remove(id)
                    return waiter
                }
                if state.active.contains(id) { state.cancelled.insert(id) }
                return nil
            }
            waiter?.resume(returning: false)
        }
    }
}
