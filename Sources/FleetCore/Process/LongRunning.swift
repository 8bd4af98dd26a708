import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Programs that outlive a request: one that replaces this process (`exec`), and one whose
/// output is read as a stream while its standard input stays open.
public enum LongRunning {
    /// Replaces the current process with `invocation` (execve). Returns only by throwing.
    public static func exec(_ invocation: Invocation) throws -> Never {
        let env = invocation.effectiveEnvironment
        guard let path = SpawnRunner.resolve(invocation.executable, path: env["PATH"]) else {
            throw ProcessError.notFound(invocation.executable)
        }
        let argv = ([invocation.executable] + invocation.arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, argv, envp)
        let code = errno
        argv.forEach { free($0) }
        envp.forEach { free($0) }
        throw ProcessError.spawnFailed(invocation.executable, errno: code)
    }
}

/// A child whose standard output is read line by line. Its standard input is a pipe that only
/// this process holds: when this process ends, however it ends, the child reads EOF.
public final class StreamingChild: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    private let lock = NSLock()
    private var inputClosed = false

    public init(_ invocation: Invocation) throws {
        let env = invocation.effectiveEnvironment
        guard let path = SpawnRunner.resolve(invocation.executable, path: env["PATH"]) else {
            throw ProcessError.notFound(invocation.executable)
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = invocation.arguments
        process.environment = env
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ProcessError.spawnFailed(invocation.executable, errno: Int32((error as NSError).code))
        }
    }

    /// The next line of output without its newline, or nil at EOF.
    public func readLine() -> Data? {
        let fd = output.fileHandleForReading.fileDescriptor
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                return Data(line)
            }
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if buffer.isEmpty { return nil }
                defer { buffer = Data() }
                return buffer
            }
            buffer.append(chunk, count: n)
        }
    }

    /// Writes a line to the child's standard input (a control-mode command).
    public func send(_ line: String) throws {
        try lock.withLock {
            guard !inputClosed else { return }
            try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
        }
    }

    /// Closes the child's standard input: a control-mode client then exits by itself.
    public func closeInput() {
        lock.withLock {
            guard !inputClosed else { return }
            inputClosed = true
            input.fileHandleForWriting.closeFile()
        }
    }

    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}
