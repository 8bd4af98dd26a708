import Foundation
import Synchronization
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
public final class StreamingChild: Sendable {
    private let child: ChildProcess
    private let inputFD: Int32
    private let outputFD: Int32
    /// Output read but not yet returned; held by the one reader for the length of a `readLine`.
    private let buffer = Mutex(Data())
    /// Whether `inputFD` is closed; `send` and `closeInput` may come from other threads.
    private let inputClosed = Mutex(false)

    public init(_ invocation: Invocation) throws {
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1]
        guard SpawnRunner.makePipe(&input) else { throw ProcessError.spawnFailed(invocation.executable, errno: errno) }
        guard SpawnRunner.makePipe(&output) else {
            close(input[0]); close(input[1])
            throw ProcessError.spawnFailed(invocation.executable, errno: errno)
        }
        do {
            child = try ChildProcess(invocation, stdin: .descriptor(input[0]), stdout: .descriptor(output[1]))
        } catch {
            for fd in input + output { close(fd) }
            throw error
        }
        close(input[0]); close(output[1])
        inputFD = input[1]
        outputFD = output[0]
    }

    deinit {
        closeInput()
        close(outputFD)
    }

    /// The next line of output without its newline, or nil at EOF.
    public func readLine() -> Data? {
        let fd = outputFD
        return buffer.withLock { buffer in
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
    }

    /// Writes a line to the child's standard input (a control-mode command).
    public func send(_ line: String) throws {
        try inputClosed.withLock { inputClosed in
            guard !inputClosed else { return }
            var bytes = Array((line + "\n").utf8)[...]
            while !bytes.isEmpty {
                let n = bytes.withUnsafeBytes { write(inputFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw ProcessError.writeFailed("process \(child.pid)", errno: errno) }
                bytes = bytes.dropFirst(n)
            }
        }
    }

    /// Closes the child's standard input: a control-mode client then exits by itself.
    public func closeInput() {
        inputClosed.withLock { inputClosed in
            guard !inputClosed else { return }
            inputClosed = true
            close(inputFD)
        }
    }

    public func wait() -> Int32 {
        child.wait()
        return child.terminationStatus ?? 0
    }
}
