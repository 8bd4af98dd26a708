import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs programs with posix_spawn, collecting both streams through poll(2) so neither can
/// fill its pipe and stall the child; enforces the invocation's timeout and output limit.
public struct SpawnRunner: ProcessRunner {
    public init() {}

    /// The call blocks in poll(2) until the program ends, so it runs on a thread of its own:
    /// never on Swift's cooperative pool, nor on a shared dispatch queue another wait could starve.
    public func run(_ invocation: Invocation) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try Self.runBlocking(invocation) })
            }
        }
    }

    /// Finds an executable on PATH the way execvp would, so errors can name what is missing.
    public static func resolve(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// pipe(2) with close-on-exec set on both ends. (pipe2 is not visible from Swift here; a
    /// concurrent spawn may inherit an end in the short window, which the reaping below tolerates.)
    static func makePipe(_ fds: inout [Int32]) -> Bool {
        // Close-on-exec from the start (pipe2, O_CLOEXEC): a child spawned by another thread in
        // between must not inherit either end; one holding its own stdin's write end never reads
        // EOF. pipe2 is not visible from Swift's Glibc module, so it is looked up once.
        if let pipe2 = Self.pipe2 { return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress, O_CLOEXEC) } == 0 }
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    /// glibc's pipe2 (there since 2.9), from the default symbol scope.
    private static let pipe2: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// `posix_spawn` with a clean signal state: an empty mask and default dispositions, so the
    /// child inherits neither an ignored SIGPIPE nor the signals Foundation blocks in its threads.
    /// `newSession`: POSIX_SPAWN_SETSID (glibc 2.26+, not exported to Swift), a session of its own.
    /// Returns posix_spawn's result (0 or an errno).
    static func spawn(_ pid: inout pid_t, path: String, argv: [String], environment: [String: String],
                      actions: inout posix_spawn_file_actions_t, newSession: Bool = false) -> Int32 {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none); sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        let setsid: Int32 = newSession ? 0x80 : 0
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | setsid))
        let cargv = argv.map { strdup($0) } + [nil]
        let cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cargv.forEach { free($0) }; cenv.forEach { free($0) } }
        return posix_spawn(&pid, path, &actions, &attr, cargv, cenv)
    }

    static func runBlocking(_ inv: Invocation) throws -> ProcessResult {
        let env = inv.effectiveEnvironment
        guard let path = resolve(inv.executable, path: env["PATH"]) else {
            throw ProcessError.notFound(inv.executable)
        }

        var stdinPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard Self.makePipe(&outPipe), Self.makePipe(&errPipe) else {
            throw ProcessError.spawnFailed(inv.executable, errno: errno)
        }
        if inv.standardInput != nil { guard Self.makePipe(&stdinPipe) else {
            throw ProcessError.spawnFailed(inv.executable, errno: errno) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if inv.standardInput != nil {
            posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var pid: pid_t = 0
        let rc = Self.spawn(&pid, path: path, argv: [inv.executable] + inv.arguments, environment: env, actions: &actions)
        close(outPipe[1]); close(errPipe[1])
        if inv.standardInput != nil { close(stdinPipe[0]) }
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            if inv.standardInput != nil { close(stdinPipe[1]) }
            throw ProcessError.spawnFailed(inv.executable, errno: rc)
        }

        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(inv.timeout.nanoseconds)
        var out = Data(), err = Data()
        var input = inv.standardInput ?? Data()
        var stdinFD: Int32 = inv.standardInput != nil ? stdinPipe[1] : -1
        if stdinFD >= 0 {
            _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
            if input.isEmpty { close(stdinFD); stdinFD = -1 }
        }
        var openFDs: [Int32] = [outPipe[0], errPipe[0]]
        var failure: ProcessError?
        var buffer = [UInt8](repeating: 0, count: 65536)
        var status: Int32 = 0
        var reaped = false

        while !openFDs.isEmpty || stdinFD >= 0 {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { failure = .timedOut(inv, after: inv.timeout); break }
            var fds = openFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            let waitMs = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
            let ready = poll(&fds, nfds_t(fds.count), waitMs)
            if ready < 0 { if errno == EINTR { continue }; break }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdinFD {
                    let written = input.withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
                    if written > 0 { input.removeFirst(written) }
                    if written < 0 && errno != EAGAIN || input.isEmpty { close(stdinFD); stdinFD = -1 }
                    continue
                }
                let count = read(entry.fd, &buffer, buffer.count)
                if count <= 0 {
                    if count < 0 && errno == EINTR { continue }
                    close(entry.fd); openFDs.removeAll { $0 == entry.fd }
                    continue
                }
                if entry.fd == outPipe[0] { out.append(buffer, count: count) } else { err.append(buffer, count: count) }
                if out.count > inv.outputLimit || err.count > inv.outputLimit {
                    failure = .outputTooLarge(inv, limit: inv.outputLimit)
                }
            }
            if failure != nil { break }
            // A daemon the child forked (a tmux server, say) may hold our pipes open for ever:
            // once the child itself is gone, drain what is buffered and stop.
            if ready == 0 || !openFDs.isEmpty, waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                for fd in openFDs {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    while true {
                        let count = read(fd, &buffer, buffer.count)
                        if count <= 0 { break }
                        if fd == outPipe[0] { out.append(buffer, count: count) } else { err.append(buffer, count: count) }
                    }
                }
                break
            }
        }
        openFDs.forEach { close($0) }
        if stdinFD >= 0 { close(stdinFD) }
        if failure != nil && !reaped { kill(pid, SIGKILL) }

        if !reaped { while waitpid(pid, &status, 0) < 0 && errno == EINTR {} }
        if failure == nil && (out.count > inv.outputLimit || err.count > inv.outputLimit) {
            failure = .outputTooLarge(inv, limit: inv.outputLimit)
        }
        if let failure { throw failure }
        let exited = status & 0x7f == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ProcessResult(status: code, standardOutput: out, standardError: err)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
    var milliseconds: Double { Double(nanoseconds) / 1_000_000 }
}
