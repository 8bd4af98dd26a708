import Foundation

/// The user a host's processes run as, and the directories that follow from it.
public struct HostUser: Sendable, Equatable {
    public var uid: UInt32
    public var name: String
    public var home: String
    /// `XDG_RUNTIME_DIR`, where the systemd user manager's socket lives; nil when unset.
    public var runtimeDirectory: String?
    /// `XDG_CONFIG_HOME`, else `<home>/.config`.
    public var configHome: String

    public init(uid: UInt32, name: String, home: String, runtimeDirectory: String?, configHome: String) {
        self.uid = uid
        self.name = name
        self.home = home
        self.runtimeDirectory = runtimeDirectory
        self.configHome = configHome
    }
}

/// What a host says about one path (stat(2), following links).
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, directory, other }
    public var kind: Kind
    public var size: Int64
    public var owner: UInt32
    /// Permission bits (`0o700`).
    public var mode: UInt32

    public init(kind: Kind, size: Int64 = 0, owner: UInt32 = 0, mode: UInt32 = 0o644) {
        self.kind = kind
        self.size = size
        self.owner = owner
        self.mode = mode
    }
}

/// Every access FleetCore makes to the world: processes, files, `/proc`, the clock, the user,
/// the environment, the tmux socket and the systemd user manager. Nothing else in the core
/// touches the machine (a test in FleetCoreTests enforces it), so another machine (SSH) or
/// another user can stand in by implementing this protocol. `LocalHost` is this machine;
/// the tests' `FakeHost` keeps everything in memory and spawns nothing.
public protocol Host: ProcessRunner {
    /// The environment this host's commands were started with (and children inherit).
    var environment: [String: String] { get }
    var user: HostUser { get }
    /// The short host name (up to the first dot).
    var hostName: String { get }
    /// Where this host's process table is mounted (`/proc`).
    var procRoot: String { get }
    func now() -> Date

    // Processes
    /// Runs a program to completion from a thread that must not suspend (the sidecar's loop).
    func runBlocking(_ invocation: Invocation) throws -> ProcessResult
    /// Starts a child whose output is read line by line while its stdin stays open.
    func startStreaming(_ invocation: Invocation) throws -> StreamingChild
    /// Replaces this process with `invocation`; returns only by throwing.
    /// Starts a program in a session of its own that outlives this process (the fleet daemon),
    /// its output appended to `log`; returns its pid.
    func spawnDetached(_ invocation: Invocation, log: String) throws -> Int32
    func exec(_ invocation: Invocation) throws -> Never
    /// Runs a program on this process's own terminal (stdin, stdout and stderr inherited) and
    /// waits until it ends; returns its exit status (`fleet top` handing the screen to `agent watch`).
    func runOnTerminal(_ invocation: Invocation) throws -> Int32
    /// Sends `signal` to `pid`; false if there is no such process (or it is not ours).
    @discardableResult func signal(_ pid: Int32, _ signal: Int32) -> Bool
    /// Blocks until every one of `pids` has ended (gone or a zombie) or `timeout` passed; true if
    /// they all ended. Any process, not only a child: a pidfd per process here, waited on with poll.
    func waitForExit(of pids: [Int32], timeout: Duration) -> Bool
    /// Calls `onExit` (on a thread of its own) as each process of a set kept up to date with
    /// `watch` ends; nil where the host cannot follow processes that way (a fake, another machine).
    func exitWatch(onExit: @escaping @Sendable (Int32) -> Void) -> (any ExitWatch)?
    /// The executable `name` resolves to on `path` (a colon-separated list), as execvp would.
    func findExecutable(_ name: String, path: String?) -> String?

    // Files
    /// A small text file (at most `limit` bytes kept); nil if absent or unreadable.
    func readFile(_ path: String, limit: Int) -> String?
    /// Up to `limit` bytes from `offset` (for files that grow).
    func readBytes(_ path: String, from offset: Int64, limit: Int) throws -> Data
    func status(_ path: String) -> FileStatus?
    /// Replaces a file atomically: readers see the old text or the new, never a half.
    func writeFile(_ text: String, to path: String, mode: mode_t) throws
    /// Appends to a log file, starting it over once it is larger than `limit`; never fails.
    func appendToLog(_ text: String, at path: String, limit: Int64)
    /// Creates a directory and its parents, and forces its mode.
    func makeDirectory(_ path: String, mode: mode_t) throws
    func listDirectory(_ path: String) throws -> [String]
    /// Renames a file (within one file system), replacing `to`.
    func moveFile(_ from: String, to: String) throws
    func removeFile(_ path: String)
    /// Removes an empty directory (a directory with entries stays).
    func removeDirectory(_ path: String)
    /// The current working directory.
    var currentDirectory: String { get }
    /// Where a symbolic link points, if `path` is one.
    func linkTarget(_ path: String) -> String?
    /// Wakes on changes to files in `directory` (only those named in `names`, if given).
    func watch(directory: String, names: Set<String>?) throws -> FileWatch

    // systemd
    /// Whether systemd keeps the user's manager running without a login session.
    var lingerEnabled: Bool { get }
    /// Whether a systemd user manager can be talked to, decided without a process call.
    var systemdReachability: Result<Void, SystemdError> { get }
}

/// See `Host.exitWatch`.
public protocol ExitWatch: Sendable {
    /// The processes to follow from now on (an ended one is reported once, then forgotten).
    func watch(_ pids: Set<Int32>)
    /// Stops following; the thread ends and its descriptors are closed.
    func stop()
}

extension Host {
    public func runOnTerminal(_ invocation: Invocation) throws -> Int32 {
        throw ProcessError.spawnFailed(invocation.executable, errno: ENOTSUP)
    }
    public func exitWatch(onExit: @escaping @Sendable (Int32) -> Void) -> (any ExitWatch)? { nil }
    public func readFile(_ path: String) -> String? { readFile(path, limit: 65536) }
    public func fileExists(_ path: String) -> Bool { status(path) != nil }
    public func isDirectory(_ path: String) -> Bool { status(path)?.kind == .directory }

    public var lingerEnabled: Bool { fileExists("/var/lib/systemd/linger/\(user.name)") }

    public var systemdReachability: Result<Void, SystemdError> {
        Self.systemdReachability(environment: environment, socketExists: fileExists)
    }

    /// The rule itself: `MOSAIC_SYSTEMD=off` refuses; otherwise the manager's private socket
    /// must be in `XDG_RUNTIME_DIR`.
    public static func systemdReachability(environment: [String: String], socketExists: (String) -> Bool)
        -> Result<Void, SystemdError> {
        if environment["MOSAIC_SYSTEMD"] == "off" { return .failure(.unavailable("MOSAIC_SYSTEMD=off")) }
        guard let runtimeDir = environment["XDG_RUNTIME_DIR"], !runtimeDir.isEmpty else {
            return .failure(.unavailable("XDG_RUNTIME_DIR is not set"))
        }
        guard socketExists("\(runtimeDir)/systemd/private") else {
            return .failure(.unavailable("no user manager socket in XDG_RUNTIME_DIR"))
        }
        return .success(())
    }
}
