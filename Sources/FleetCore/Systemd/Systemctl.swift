import Foundation

/// One unit's state as `list-units` reports it.
public struct UnitState: Sendable, Equatable, Codable {
    public var name: String
    public var load: String
    public var active: String
    public var sub: String

    public init(name: String, load: String, active: String, sub: String) {
        self.name = name
        self.load = load
        self.active = active
        self.sub = sub
    }

    public var isActive: Bool { active == "active" || active == "reloading" || active == "activating" }

    /// Parses `list-units --plain --no-legend` lines (UNIT LOAD ACTIVE SUB DESCRIPTION…).
    /// Without `--plain` (measured, systemd 252) each line starts with a two-column mark, "● "
    /// for a failed or not-found unit: tolerated, so a caller's missing flag cannot shift fields.
    public static func parse(_ output: String) -> [UnitState] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            var f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).map(String.init)
            if let first = f.first, first.hasPrefix("●") {
                if first == "●" { f.removeFirst() } else { f[0] = String(first.dropFirst()) }
            }
            guard f.count >= 4 else { return nil }
            return UnitState(name: f[0], load: f[1], active: f[2], sub: f[3])
        }
    }
}

public enum SystemdError: Error, Equatable, CustomStringConvertible {
    case unavailable(String)
    case failed(command: String, status: Int32, stderr: String)
    case timedOut(command: String)

    public var description: String {
        switch self {
        case .unavailable(let why):
            return "no systemd user manager is reachable (\(why)); the fleet runs on tmux alone"
        case .failed(let command, let status, let stderr):
            let detail = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "systemctl --user \(command) failed (exit \(status))" + (detail.isEmpty ? "" : ": \(detail)")
        case .timedOut(let command):
            return "systemctl --user \(command) did not answer in time"
        }
    }
}

/// The typed `systemctl --user` client: the one place that writes "systemctl".
public struct Systemctl: Sendable {
    public let runner: any ProcessRunner
    public let environment: [String: String]
    /// Where the manager's socket is looked for.
    public let host: any Host
    public var timeout: Duration

    public init(runner: any ProcessRunner, environment: [String: String], host: (any Host)? = nil,
                timeout: Duration = .seconds(30)) {
        self.runner = runner
        self.environment = environment
        self.host = host ?? LocalHost(environment: environment, runner: runner)
        self.timeout = timeout
    }

    /// Whether a user manager can be talked to, decided without a process call.
    public var reachability: Result<Void, SystemdError> {
        host.systemdReachability
    }

    public var isReachable: Bool { if case .success = reachability { return true } else { return false } }

    public func invocation(_ arguments: [String]) -> Invocation {
        // systemctl edits unit files itself (mask, enable) when it cannot reach the manager, in
        // the unit directory of its own XDG_CONFIG_HOME/HOME: they must be the manager's, or a
        // mask lands in another user's (or the test runner's own) ~/.config.
        var env: [String: String?] = ["XDG_RUNTIME_DIR": environment["XDG_RUNTIME_DIR"], "SYSTEMD_COLORS": "0"]
        for key in ["XDG_CONFIG_HOME", "HOME"] where environment[key] != nil { env[key] = environment[key] }
        return Invocation("systemctl", ["--user", "--no-pager"] + arguments, environment: env, timeout: timeout)
    }

    @discardableResult
    public func run(_ arguments: [String]) async throws -> ProcessResult {
        let result: ProcessResult
        do {
            result = try await runner.run(invocation(arguments))
        } catch ProcessError.notFound {
            throw SystemdError.unavailable("systemctl is not installed")
        } catch ProcessError.timedOut {
            throw SystemdError.timedOut(command: arguments.first ?? "")
        }
        guard result.succeeded else {
            if result.stderr.contains("Failed to connect to bus") || result.stderr.contains("Failed to connect to user scope bus") {
                throw SystemdError.unavailable(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            throw SystemdError.failed(command: arguments.first ?? "", status: result.status, stderr: result.stderr)
        }
        return result
    }

    /// Every loaded unit matching the patterns, in one call.
    public func listUnits(_ patterns: [String]) async throws -> [UnitState] {
        UnitState.parse(try await run(["list-units", "--all", "--plain", "--no-legend", "--full"] + patterns).stdout)
    }

    /// Starts units and waits until systemd ran every job (they run in parallel).
    public func start(_ units: [String]) async throws { try await run(["start"] + units) }

    public func stop(_ units: [String]) async throws { try await run(["stop"] + units) }
    public func restart(_ units: [String]) async throws { try await run(["restart"] + units) }
    public func resetFailed(_ units: [String]) async throws { try await run(["reset-failed"] + units) }
    public func enable(_ units: [String]) async throws { try await run(["enable"] + units) }
    public func daemonReload() async throws { try await run(["daemon-reload"]) }
}
