import Foundation

/// Where the fleet lives on disk, derived from the home directory alone.
public struct FleetPaths: Sendable, Equatable {
    public let home: String

    public init(home: String) { self.home = home }

    public var fleetDirectory: String { "\(home)/fleet" }
    public var roster: String { "\(fleetDirectory)/roster.yaml" }
    public var runDirectory: String { "\(fleetDirectory)/run" }
    public var tmuxConfig: String { "\(fleetDirectory)/tmux.conf" }
}

/// Everything a command learns from the process environment, gathered once and passed down:
/// nothing in FleetCore reads globals behind a caller's back.
public struct FleetContext: Sendable {
    public var paths: FleetPaths
    public var environment: [String: String]
    public var userName: String
    public var hostName: String
    /// Absolute path of the `mosaic` binary, baked into units and stub panes.
    public var mosaicExecutable: String
    public var runner: any ProcessRunner

    public init(paths: FleetPaths, environment: [String: String], userName: String, hostName: String,
                mosaicExecutable: String, runner: any ProcessRunner) {
        self.paths = paths
        self.environment = environment
        self.userName = userName
        self.hostName = hostName
        self.mosaicExecutable = mosaicExecutable
        self.runner = runner
    }

    /// Resolves the home: `--home`, then `MOSAIC_HOME`, then `~/.config/mosaic`.
    public static func resolveHome(option: String?, environment: [String: String]) -> String {
        let raw = option ?? environment["MOSAIC_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.config/mosaic"
        let expanded = expandTilde(raw, home: environment["HOME"])
        return expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
    }

    public static func expandTilde(_ path: String, home: String?) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return (home ?? NSHomeDirectory()) + path.dropFirst()
    }

    /// Builds the context of the running process.
    public static func current(homeOption: String?, runner: any ProcessRunner = SpawnRunner()) -> FleetContext {
        let env = ProcessInfo.processInfo.environment
        let user = env["USER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid\(getuid())"
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let host = String(cString: buffer).split(separator: ".").first.map(String.init) ?? "localhost"
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return FleetContext(paths: FleetPaths(home: resolveHome(option: homeOption, environment: env)),
                            environment: env, userName: user, hostName: host, mosaicExecutable: exe, runner: runner)
    }

    public var rosterDefaults: RosterLoader.Defaults {
        .init(tenant: AgentName.isValid(userName) ? userName : "default", host: hostName)
    }

    public func loadRoster() throws -> Roster {
        try RosterLoader(defaults: rosterDefaults).load(path: paths.roster)
    }

    public func tmux(for roster: Roster, timeout: Duration = .seconds(10)) throws -> Tmux {
        Tmux(socket: try TmuxSocket(roster.socketName), configFile: paths.tmuxConfig, runner: runner, timeout: timeout)
    }

    public var systemctl: Systemctl { Systemctl(runner: runner, environment: environment) }

    public var heartbeats: HeartbeatStore { HeartbeatStore(directory: paths.runDirectory) }

    /// The user's systemd unit directory.
    public var unitDirectory: String {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.config"
        return "\(config)/systemd/user"
    }

    /// Whether systemd keeps this user's manager running without a login session.
    public var lingerEnabled: Bool {
        FileManager.default.fileExists(atPath: "/var/lib/systemd/linger/\(userName)")
    }
}
