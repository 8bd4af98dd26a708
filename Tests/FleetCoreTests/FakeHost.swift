import Foundation
import Synchronization
@testable import FleetCore

/// A host that touches nothing: files and directories in memory, programs answered by a script
/// (and recorded), a fixed clock, a fake /proc written with `addProcess`. Unit tests of the
/// core run against it without spawning anything.
final class FakeHost: FleetCore.Host {
    struct Unsupported: Error, CustomStringConvertible {
        var what: String
        var description: String { "the fake host cannot \(what)" }
    }

    private struct State {
        var files: [String: (data: Data, mode: mode_t)] = [:]
        var directories: Set<String> = ["/"]
        var invocations: [Invocation] = []
        var signals: [(Int32, Int32)] = []
        var watches: [(directory: String, names: Set<String>?, watch: FileWatch)] = []
        var now: Date
    }

    let environment: [String: String]
    let user: HostUser
    let hostName: String
    let procRoot = "/proc"
    private let state: Mutex<State>
    private let respond: @Sendable (Invocation) -> ProcessResult

    init(user: HostUser = HostUser(uid: 1000, name: "u", home: "/home/u", runtimeDirectory: "/run/user/1000",
                                   configHome: "/home/u/.config"),
         environment: [String: String] = [:], hostName: String = "fakehost",
         now: Date = Date(timeIntervalSince1970: 1_800_000_000),
         respond: @escaping @Sendable (Invocation) -> ProcessResult = { _ in ProcessResult(status: 0) }) {
        var env = ["HOME": user.home, "USER": user.name, "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": user.configHome]
        if let runtime = user.runtimeDirectory { env["XDG_RUNTIME_DIR"] = runtime }
        self.environment = env.merging(environment) { $1 }
        self.user = user
        self.hostName = hostName
        self.state = Mutex(State(now: now))
        self.respond = respond
    }

    // MARK: what a test looks at

    var invocations: [Invocation] { state.withLock { $0.invocations } }
    var signals: [(Int32, Int32)] { state.withLock { $0.signals } }
    var filePaths: [String] { state.withLock { $0.files.keys.sorted() } }
    func mode(_ path: String) -> mode_t? { state.withLock { $0.files[path]?.mode } }
    func advance(by seconds: TimeInterval) { state.withLock { $0.now += seconds } }

    /// A process in the fake /proc: its stat line and its children list.
    func addProcess(pid: Int32, comm: String, state letter: String = "S", ppid: Int32 = 1, startTime: UInt64 = 100,
                    children: [Int32] = []) {
        // Fields after comm: state, ppid, then 17 more up to starttime (field 22), then the rest (52 in all).
        let fields = [letter, String(ppid)] + Array(repeating: "0", count: 17) + [String(startTime)] + Array(repeating: "0", count: 30)
        put("\(procRoot)/\(pid)/stat", "\(pid) (\(comm)) \(fields.joined(separator: " "))\n")
        put("\(procRoot)/\(pid)/task/\(pid)/children", children.map { "\($0) " }.joined())
    }

    /// Writes a file as some other program would (directories made as needed).
    func put(_ path: String, _ text: String, mode: mode_t = 0o644) {
        state.withLock { state in
            var dir = (path as NSString).deletingLastPathComponent
            while dir != "/" && !dir.isEmpty { state.directories.insert(dir); dir = (dir as NSString).deletingLastPathComponent }
            state.files[path] = (Data(text.utf8), mode)
        }
        notify(path)
    }

    private func notify(_ path: String) {
        let dir = (path as NSString).deletingLastPathComponent, name = (path as NSString).lastPathComponent
        let watches = state.withLock { $0.watches.filter { $0.directory == dir && ($0.names?.contains(name) ?? true) } }
        for entry in watches { entry.watch.changed() }
    }

    // MARK: Host

    func now() -> Date { state.withLock { $0.now } }

    func run(_ invocation: Invocation) async throws -> ProcessResult { try runBlocking(invocation) }

    func runBlocking(_ invocation: Invocation) throws -> ProcessResult {
        state.withLock { $0.invocations.append(invocation) }
        return respond(invocation)
    }

    func startStreaming(_ invocation: Invocation) throws -> StreamingChild { throw Unsupported(what: "stream \(invocation)") }
    func exec(_ invocation: Invocation) throws -> Never { throw Unsupported(what: "exec \(invocation)") }
    func spawnDetached(_ invocation: Invocation, log: String) throws -> Int32 { throw Unsupported(what: "spawn \(invocation)") }

    func signal(_ pid: Int32, _ signal: Int32) -> Bool {
        state.withLock { $0.signals.append((pid, signal)) }
        return fileExists("\(procRoot)/\(pid)/stat")
    }

    func waitForExit(of pids: [Int32], timeout: Duration) -> Bool {
        pids.allSatisfy { pid in ProcessTable(host: self).sample(pid).map(\.isZombie) ?? true }
    }

    func findExecutable(_ name: String, path: String?) -> String? {
        if name.contains("/") { return fileExists(name) ? name : nil }
        return (path ?? "").split(separator: ":").map { "\($0)/\(name)" }.first(where: fileExists)
    }

    func readFile(_ path: String, limit: Int) -> String? {
        state.withLock { $0.files[path] }.map { String(decoding: $0.data.prefix(limit), as: UTF8.self) }
    }

    func readBytes(_ path: String, from offset: Int64, limit: Int) throws -> Data {
        guard let data = state.withLock({ $0.files[path]?.data }) else { throw FileIO.Failure(path: path, reason: "cannot open: no such file") }
        return Data(data.dropFirst(Int(offset)).prefix(limit))
    }

    func status(_ path: String) -> FileStatus? {
        state.withLock { state in
            if let file = state.files[path] { return FileStatus(kind: .file, size: Int64(file.data.count), owner: user.uid, mode: UInt32(file.mode)) }
            if state.directories.contains(path) { return FileStatus(kind: .directory, owner: user.uid, mode: 0o700) }
            return nil
        }
    }

    func writeFile(_ text: String, to path: String, mode: mode_t) throws {
        guard isDirectory((path as NSString).deletingLastPathComponent) else {
            throw FileIO.Failure(path: path, reason: "cannot write: No such file or directory")
        }
        state.withLock { $0.files[path] = (Data(text.utf8), mode) }
        notify(path)
    }

    func appendToLog(_ text: String, at path: String, limit: Int64) {
        state.withLock { state in
            var data = state.files[path].map { Int64($0.data.count) > limit ? Data() : $0.data } ?? Data()
            data.append(Data(text.utf8))
            state.files[path] = (data, 0o600)
        }
    }

    func makeDirectory(_ path: String, mode: mode_t) throws {
        state.withLock { state in
            var dir = path
            while dir != "/" && !dir.isEmpty { state.directories.insert(dir); dir = (dir as NSString).deletingLastPathComponent }
        }
    }

    func listDirectory(_ path: String) throws -> [String] {
        try state.withLock { state in
            guard state.directories.contains(path) else { throw FileIO.Failure(path: path, reason: "cannot list: no such directory") }
            let prefix = path.hasSuffix("/") ? path : path + "/"
            let entries = (Array(state.files.keys) + Array(state.directories)).filter { $0.hasPrefix(prefix) }
                .map { String($0.dropFirst(prefix.count).prefix { $0 != "/" }) }
            return Array(Set(entries)).sorted()
        }
    }

    func moveFile(_ from: String, to: String) throws {
        guard let text = readFile(from, limit: Int.max) else { throw Unsupported(what: "move missing \(from)") }
        try writeFile(text, to: to, mode: 0o600)
        removeFile(from)
    }

    func removeFile(_ path: String) {
        let removed = state.withLock { $0.files.removeValue(forKey: path) != nil }
        if removed { notify(path) }
    }

    func removeDirectory(_ path: String) {
        state.withLock { state in
            let prefix = path + "/"
            guard !state.files.keys.contains(where: { $0.hasPrefix(prefix) }),
                  !state.directories.contains(where: { $0.hasPrefix(prefix) }) else { return }
            state.directories.remove(path)
        }
    }

    var currentDirectory: String { user.home }

    func linkTarget(_ path: String) -> String? { nil }

    func watch(directory: String, names: Set<String>?) throws -> FileWatch {
        let watch = FileWatch()
        state.withLock { $0.watches.append((directory, names, watch)) }
        return watch
    }
}
