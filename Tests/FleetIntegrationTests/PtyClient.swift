import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import FleetCore

/// A program running on a real pseudo-terminal of a given size, as a person's terminal would
/// run it: keystrokes are written to the master side, output is drained in the background.
final class PtyClient: @unchecked Sendable {
    let pid: pid_t
    private let master: Int32
    private let lock = NSLock()
    private var output = Data()
    private var reader: Thread?

    init(_ argv: [String], environment: [String: String?], rows: UInt16, columns: UInt16) throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw FileIO.Failure(path: "openpty", reason: "failed") }
        var env = Invocation.inheritedEnvironment(with: environment)
        env["TERM"] = "xterm-256color"
        env["TMUX"] = nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 { posix_spawn_file_actions_adddup2(&actions, slave, fd) }
        posix_spawn_file_actions_addclose(&actions, master)
        var child: pid_t = 0
        // A session of its own, like a terminal's shell.
        let rc = SpawnRunner.spawn(&child, path: argv[0], argv: argv, environment: env, actions: &actions, newSession: true)
        close(slave)
        guard rc == 0 else { close(master); throw FileIO.Failure(path: argv[0], reason: "posix_spawn: \(rc)") }
        pid = child
        self.master = master
        let thread = Thread { [self] in drain() }
        reader = thread
        thread.start()
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(master, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            lock.withLock { output.append(buffer, count: n) }
        }
    }

    var screenText: String { lock.withLock { String(decoding: output, as: UTF8.self) } }

    func type(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// True once the program has exited (reaped here).
    func exited() -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
    }
}
