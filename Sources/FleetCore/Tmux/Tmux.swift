import Foundation

/// Where a tmux server listens: a validated name in tmux's per-user socket directory (`-L`),
/// or a socket file's absolute path (`-S`, another user's server or a host's own layout).
/// Never empty, never the user's `default` server.
public struct TmuxSocket: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case name(String)
        case path(String)
    }

    public let address: Address

    /// A socket by name (`tmux -L <name>`).
    public init(_ name: String) throws {
        guard AgentName.isValid(name), name != "default" else { throw TmuxError.invalidSocket(name) }
        address = .name(name)
    }

    /// A socket by its file (`tmux -S <path>`): absolute, and never a `default` socket.
    public init(path: String) throws {
        let file = path.split(separator: "/").last.map(String.init) ?? ""
        guard path.hasPrefix("/"), !path.hasSuffix("/"), !file.isEmpty, file != "default", !path.contains("\n") else {
            throw TmuxError.invalidSocket(path)
        }
        address = .path(path)
    }

    /// The name, or the path: what errors and messages show.
    public var name: String {
        switch address {
        case .name(let name): return name
        case .path(let path): return path
        }
    }

    /// The global tmux options that address this socket.
    public var arguments: [String] {
        switch address {
        case .name(let name): return ["-L", name]
        case .path(let path): return ["-S", path]
        }
    }

    public var description: String { name }
}

/// What a new pane runs: a shell command line (run by `default-shell -c`) or an argv (exec'd directly).
public enum PaneCommand: Sendable, Equatable {
    case shell(String)
    case argv([String])

    var arguments: [String] {
        switch self {
        case .shell(let line): return [line]
        // tmux execs directly only when given more than one argument
        case .argv(let argv): return argv.count == 1 ? ["exec \(ShellQuote.quote(argv[0]))"] : argv
        }
    }
}

/// Options of one detached session: one window, one pane, its own environment.
public struct NewSession: Sendable, Equatable {
    public var name: String
    public var command: PaneCommand
    public var workdir: String?
    public var environment: [(String, String)]
    public var width: Int
    public var height: Int

    public init(name: String, command: PaneCommand, workdir: String? = nil, environment: [(String, String)] = [],
                width: Int = 200, height: Int = 50) {
        self.name = name
        self.command = command
        self.workdir = workdir
        self.environment = environment
        self.width = width
        self.height = height
    }

    public static func == (a: NewSession, b: NewSession) -> Bool {
        a.name == b.name && a.command == b.command && a.workdir == b.workdir && a.width == b.width
            && a.height == b.height && a.environment.elementsEqual(b.environment, by: ==)
    }

    /// `new-session` then, at once, `window-size manual` on that window only: a watcher's client
    /// must never drive the agent's size, and the global form of this option crashes tmux 3.3a.
    var commands: [[String]] {
        var create = ["new-session", "-d", "-s", name, "-x", String(width), "-y", String(height)]
        if let workdir { create += ["-c", workdir] }
        for (key, value) in environment { create += ["-e", "\(key)=\(value)"] }
        return [create + command.arguments, ["set-option", "-w", "-t", "=\(name):", "window-size", "manual"]]
    }
}

/// The typed tmux client: the one place that writes "tmux", adds the socket (`-L`/`-S`) and reads stderr.
public struct Tmux: Sendable {
    public let socket: TmuxSocket
    public let configFile: String?
    public let runner: any ProcessRunner
    public var timeout: Duration
    /// tmux passes a command to its server in one message of at most 16 KiB; batches stay below.
    static let batchByteLimit = 12_000

    public init(socket: TmuxSocket, configFile: String?, runner: any ProcessRunner, timeout: Duration = .seconds(10)) {
        self.socket = socket
        self.configFile = configFile
        self.runner = runner
        self.timeout = timeout
    }

    public func invocation(_ arguments: [String], stdin: Data? = nil) -> Invocation {
        var argv = socket.arguments
        if let configFile { argv += ["-f", configFile] }
        // $TMUX would make tmux refuse to nest or talk to the caller's server: drop it.
        return Invocation("tmux", argv + arguments, environment: ["TMUX": nil, "TMUX_PANE": nil],
                          standardInput: stdin, timeout: timeout)
    }

    /// Runs one tmux command; a failure becomes a classified `TmuxError`.
    @discardableResult
    public func run(_ arguments: [String], stdin: Data? = nil, target: String? = nil) async throws -> ProcessResult {
        let result: ProcessResult
        do {
            result = try await runner.run(invocation(arguments, stdin: stdin))
        } catch ProcessError.notFound {
            throw TmuxError.notInstalled
        } catch ProcessError.timedOut {
            throw TmuxError.timedOut(command: arguments.first ?? "")
        }
        if let error = TmuxError.classify(result, command: arguments.first ?? "", socket: socket.name, target: target) {
            throw error
        }
        return result
    }

    /// Runs many commands as few tmux calls as the message size allows, joined by `;`.
    public func runBatch(_ commands: [[String]]) async throws {
        for chunk in Self.chunk(commands, limit: Self.batchByteLimit) {
            try await run(chunk)
        }
    }

    static func chunk(_ commands: [[String]], limit: Int) -> [[String]] {
        var chunks: [[String]] = []
        var current: [String] = []
        var size = 0
        for command in commands {
            let cost = command.reduce(0) { $0 + $1.utf8.count + 1 } + 2
            if !current.isEmpty && size + cost > limit {
                chunks.append(current)
                current = []
                size = 0
            }
            if !current.isEmpty { current.append(";") }
            current += command
            size += cost
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// `tmux -V`, parsed: (major, minor) such as (3, 3).
    public func version() async throws -> (major: Int, minor: Int, text: String) {
        let result: ProcessResult
        do { result = try await runner.run(Invocation("tmux", ["-V"], timeout: timeout)) } catch ProcessError.notFound {
            throw TmuxError.notInstalled
        }
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let digits = text.drop { !$0.isNumber }
        let parts = digits.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0, text)
    }

    /// Every pane on the server in one call; `nil` when no server runs on the socket.
    public func listPanes() async throws -> [PaneInfo]? {
        do {
            return PaneFormat.parse(try await run(["list-panes", "-a", "-F", PaneFormat.format]).stdout)
        } catch TmuxError.noServer {
            return nil
        } catch TmuxError.noSuchSession {
            // A server without sessions (the holder unit's -D server before its holder session
            // exists) answers "no current target": it runs, it just has no panes.
            return []
        }
    }

    public func hasSession(_ name: String) async throws -> Bool {
        do {
            try await run(["has-session", "-t", "=\(name)"], target: name)
            return true
        } catch TmuxError.noSuchSession, TmuxError.noServer {
            return false
        }
    }

    /// Creates sessions in batched calls (two tmux commands each, many per call).
    public func newSessions(_ sessions: [NewSession]) async throws {
        try await runBatch(sessions.flatMap(\.commands))
    }

    public func killSessions(_ names: [String]) async throws {
        try await runBatch(names.map { ["kill-session", "-t", "=\($0)"] })
    }

    public func killServer() async throws {
        do { try await run(["kill-server"]) } catch TmuxError.noServer {}
    }

    /// The running server's socket file (`kill-server` leaves it behind; a file is no proof of a server).
    public func socketPath() async throws -> String {
        try await run(["display-message", "-p", "#{socket_path}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The pane's screen (and `history` lines above it) as text; `escapes` keeps colours.
    public func capturePane(_ target: String, history: Int = 0, escapes: Bool = false) async throws -> String {
        var args = ["capture-pane", "-p", "-J", "-t", target]
        if escapes { args.append("-e") }
        if history > 0 { args += ["-S", "-\(history)"] }
        return try await run(args, target: target).stdout
    }

    /// Shows one value in the context of a pane id (`%N`) — never used as an existence test,
    /// because a bad target silently falls back to another pane.
    public func display(_ format: String, paneId: String) async throws -> String {
        precondition(paneId.hasPrefix("%"), "display needs a pane id")
        return try await run(["display-message", "-p", "-t", paneId, format], target: paneId).stdout
            .trimmingCharacters(in: .newlines)
    }
}
