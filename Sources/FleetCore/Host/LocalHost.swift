import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// This machine, as the running process sees it: today's behaviour of every access.
public struct LocalHost: Host {
    private let fixedEnvironment: [String: String]?
    private let fixedUserName: String?
    private let fixedHostName: String?
    public let procRoot: String
    /// Who runs the programs: `SpawnRunner` here, a recording fake in some tests.
    public let runner: any ProcessRunner

    /// `environment` defaults to this process's (read when asked, as setenv may change it);
    /// `userName` and `hostName` to the system's. Cheap: stores and tables make one freely.
    public init(environment: [String: String]? = nil, userName: String? = nil, hostName: String? = nil,
                procRoot: String = "/proc", runner: any ProcessRunner = SpawnRunner()) {
        fixedEnvironment = environment
        fixedUserName = userName
        fixedHostName = hostName
        self.procRoot = procRoot
        self.runner = runner
    }

    public var environment: [String: String] { fixedEnvironment ?? ProcessInfo.processInfo.environment }

    public var user: HostUser {
        let env = environment
        let account = Self.account
        let name = fixedUserName ?? env["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? account.name
        let home = env["HOME"] ?? NSHomeDirectory()
        let config = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.config"
        return HostUser(uid: account.uid, name: name, home: home,
                        runtimeDirectory: env["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }, configHome: config)
    }

    public var hostName: String { fixedHostName ?? Self.systemHostName }

    /// Looked up once per process: stores and tables build a `LocalHost` freely.
    private static let account: (uid: UInt32, name: String) = {
        let uid = getuid()
        return (uid, getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid\(uid)")
    }()

    private static let systemHostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: ".").first.map(String.init) ?? "localhost"
    }()

    public func now() -> Date { Date() }

    // MARK: processes

    public func run(_ invocation: Invocation) async throws -> ProcessResult {
        let start = ContinuousClock.now
        do {
            let result = try await runner.run(invocation)
            Log.core.debug("ran \(invocation.executable) \(invocation.arguments.prefix(4).joined(separator: " "))",
                           metadata: ["status": "\(result.status)", "ms": "\(Int((ContinuousClock.now - start).milliseconds))"])
            return result
        } catch {
            Log.core.debug("could not run \(invocation.executable): \(error)")
            throw error
        }
    }

    public func runBlocking(_ invocation: Invocation) throws -> ProcessResult { try SpawnRunner.runBlocking(invocation) }

    public func startStreaming(_ invocation: Invocation) throws -> StreamingChild { try StreamingChild(invocation) }

    public func exec(_ invocation: Invocation) throws -> Never { try LongRunning.exec(invocation) }

    public func runOnTerminal(_ invocation: Invocation) throws -> Int32 {
        let child = try ChildProcess(invocation, stdin: .descriptor(STDIN_FILENO), stdout: .descriptor(STDOUT_FILENO),
                                     stderr: .descriptor(STDERR_FILENO))
        _ = child.wait()
        return child.terminationStatus ?? 1
    }

    public func spawnDetached(_ invocation: Invocation, log: String) throws -> Int32 {
        try ChildProcess(invocation, stdout: .file(log), stderr: .file(log), newSession: true).pid
    }

    @discardableResult
    public func signal(_ pid: Int32, _ signal: Int32) -> Bool { kill(pid, signal) == 0 }

    public func waitForExit(of pids: [Int32], timeout: Duration) -> Bool {
        ProcessExit.wait(for: pids, timeout: timeout, table: ProcessTable(host: self))
    }

    public func exitWatch(onExit: @escaping @Sendable (Int32) -> Void) -> (any ExitWatch)? {
        procRoot == "/proc" ? LocalExitWatch(onExit: onExit) : nil
    }

    public func findExecutable(_ name: String, path: String?) -> String? { SpawnRunner.resolve(name, path: path) }

    // MARK: files

    public func readFile(_ path: String, limit: Int) -> String? { FileIO.readSmall(path, limit: limit) }

    public func readBytes(_ path: String, from offset: Int64, limit: Int) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIO.Failure(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, limit, off_t(offset)) }
        guard n > 0 else { return Data() }
        return Data(buffer[0..<n])
    }

    public func status(_ path: String) -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        return FileStatus(kind: type == S_IFDIR ? .directory : type == S_IFREG ? .file : .other,
                          size: Int64(info.st_size), owner: info.st_uid, mode: UInt32(info.st_mode & 0o7777))
    }

    public func writeFile(_ text: String, to path: String, mode: mode_t) throws {
        try FileIO.writeAtomically(text, to: path, mode: mode)
    }

    public func appendToLog(_ text: String, at path: String, limit: Int64) {
        var info = stat()
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (stat(path, &info) == 0 && Int64(info.st_size) > limit ? O_TRUNC : 0)
        let fd = open(path, flags, 0o600)
        // Nowhere else to report a failure to log: a detached process's stdio is /dev/null.
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, bytes.count) }
    }

    public func makeDirectory(_ path: String, mode: mode_t) throws { try FileIO.makeDirectory(path, mode: mode) }

    public func listDirectory(_ path: String) throws -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw FileIO.Failure(path: path, reason: "cannot list: \(error.localizedDescription)")
        }
    }

    public func removeFile(_ path: String) { unlink(path) }

    public func moveFile(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw FileIO.Failure(path: from, reason: "cannot move to \(to): \(String(cString: strerror(errno)))")
        }
    }

    public func removeDirectory(_ path: String) { rmdir(path) }

    public var currentDirectory: String { FileManager.default.currentDirectoryPath }

    public func linkTarget(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }

    public func watch(directory: String, names: Set<String>?) throws -> FileWatch {
        try FileWatch(directory: directory, names: names)
    }
}
