import Foundation

/// One external program call, described as a value: argv, never a shell string.
public struct Invocation: Sendable, Equatable, CustomStringConvertible {
    /// Program name (looked up on PATH) or an absolute path.
    public var executable: String
    public var arguments: [String]
    /// Variables to set (a value) or remove (`nil`) on top of the inherited environment.
    public var environment: [String: String?]

    /// This process's environment with `changes` applied (a value sets, `nil` removes).
    public static func inheritedEnvironment(with changes: [String: String?]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in changes { env[key] = value ?? nil }
        return env
    }

    /// The environment the program runs with.
    public var effectiveEnvironment: [String: String] { Self.inheritedEnvironment(with: environment) }
    /// Bytes written to the program's standard input (then closed). `nil`: /dev/null.
    public var standardInput: Data?
    /// Wall-clock bound; the program is killed (SIGKILL) when it is exceeded.
    public var timeout: Duration
    /// Maximum bytes kept per output stream; more is an error, never a silent truncation.
    public var outputLimit: Int

    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String?] = [:],
        standardInput: Data? = nil,
        timeout: Duration = .seconds(10),
        outputLimit: Int = 64 << 20
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.standardInput = standardInput
        self.timeout = timeout
        self.outputLimit = outputLimit
    }

    public var description: String { ([executable] + arguments).joined(separator: " ") }
}

/// What a finished program left behind. A non-zero status is data, not an error.
public struct ProcessResult: Sendable, Equatable {
    public var status: Int32
    public var standardOutput: Data
    public var standardError: Data

    public init(status: Int32, standardOutput: Data = Data(), standardError: Data = Data()) {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    public var succeeded: Bool { status == 0 }
    public var stdout: String { String(decoding: standardOutput, as: UTF8.self) }
    public var stderr: String { String(decoding: standardError, as: UTF8.self) }
}

/// Why a program could not be run to completion.
public enum ProcessError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case spawnFailed(String, errno: Int32)
    case writeFailed(String, errno: Int32)
    case timedOut(Invocation, after: Duration)
    case outputTooLarge(Invocation, limit: Int)

    public var description: String {
        switch self {
        case .notFound(let name):
            return "\(name) was not found on PATH; install it or put it on PATH"
        case .spawnFailed(let name, let code):
            return "could not start \(name): \(String(cString: strerror(code)))"
        case .writeFailed(let name, let code):
            return "could not write to \(name): \(String(cString: strerror(code)))"
        case .timedOut(let inv, let after):
            return "\(inv.executable) \(inv.arguments.first ?? "") did not finish within \(after) and was killed"
        case .outputTooLarge(let inv, let limit):
            return "\(inv.executable) printed more than \(limit) bytes; refusing to truncate"
        }
    }
}

/// The one seam through which FleetCore runs other programs.
public protocol ProcessRunner: Sendable {
    func run(_ invocation: Invocation) async throws -> ProcessResult
}
