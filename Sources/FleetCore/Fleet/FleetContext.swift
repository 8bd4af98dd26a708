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

/// Everything a command learns from its host, gathered once and passed down: nothing in
/// FleetCore reads globals behind a caller's back, and every access to the world goes through
/// `host`.
public struct FleetContext: Sendable {
    public var paths: FleetPaths
    public var host: any Host
    /// Absolute path of the `mosaic` binary, baked into units and stub panes.
    public var mosaicExecutable: String

    public init(paths: FleetPaths, host: any Host, mosaicExecutable: String) {
        self.paths = paths
        self.host = host
        self.mosaicExecutable = mosaicExecutable
    }

    /// This machine with the given environment, user and host name, running programs with `runner`.
    public init(paths: FleetPaths, environment: [String: String], userName: String, hostName: String,
                mosaicExecutable: String, runner: any ProcessRunner) {
        self.init(paths: paths, host: LocalHost(environment: environment, userName: userName, hostName: hostName, runner: runner),
                  mosaicExecutable: mosaicExecutable)
    }

    public var environment: [String: String] { host.environment }
    public var userName: String { host.user.name }
    public var hostName: String { host.hostName }
    /// The host, as the process seam (kept for callers that only run programs).
    public var runner: any ProcessRunner { host }

    /// Resolves the home: `--home`, then `MOSAIC_HOME`, then `~/.config/mosaic`.
    public static func resolveHome(option: String?, environment: [String: String],
                                   currentDirectory: String? = nil) -> String {
        let raw = option ?? environment["MOSAIC_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.config/mosaic"
        let expanded = expandTilde(raw, home: environment["HOME"])
        return expanded.hasPrefix("/") ? expanded : (currentDirectory ?? LocalHost().currentDirectory) + "/" + expanded
    }

    public static func expandTilde(_ path: String, home: String?) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return (home ?? NSHomeDirectory()) + path.dropFirst()
    }

    /// Builds the context of the running process on `host` (this machine by default).
    public static func current(homeOption: String?, host: any Host = LocalHost()) -> FleetContext {
        let exe = host.linkTarget("\(host.procRoot)/self/exe") ?? CommandLine.arguments[0]
        return FleetContext(paths: FleetPaths(home: resolveHome(option: homeOption, environment: host.environment,
                                                                currentDirectory: host.currentDirectory)),
                            host: host, mosaicExecutable: exe)
    }

    /// The context of the running process, running programs with `runner`.
    public static func current(homeOption: String?, runner: any ProcessRunner) -> FleetContext {
        current(homeOption: homeOption, host: LocalHost(runner: runner))
    }

    public var rosterDefaults: RosterLoader.Defaults {
        .init(tenant: AgentName.isValid(userName) ? userName : "default", host: hostName)
    }

    public func loadRoster() throws -> Roster {
        try RosterLoader(defaults: rosterDefaults, host: host).load(path: paths.roster)
    }

    /// `loadRoster()` for a process that reads the roster again and again (the daemon, each
    /// tick): the file is read each time, but parsed only when its text changed. Parsing is most
    /// of what a tick costs at 1000 agents.
    public func loadRoster(cache: RosterCache) throws -> Roster {
        let loader = RosterLoader(defaults: rosterDefaults, host: host)
        let text = try loader.read(path: paths.roster)
        if let roster = cache.roster(for: text) { return roster }
        let roster = try loader.parse(text, path: paths.roster)
        cache.keep(roster, for: text)
        return roster
    }

    public func tmux(for roster: Roster, timeout: Duration = .seconds(10)) throws -> Tmux {
        Tmux(socket: try TmuxSocket(roster.socketName), configFile: paths.tmuxConfig, runner: host, timeout: timeout)
    }

    public var systemctl: Systemctl { Systemctl(runner: host, environment: environment, host: host) }

    public var heartbeats: HeartbeatStore { HeartbeatStore(directory: paths.runDirectory, host: host) }

    /// The agents' runtime reports (`<agent>.state`) in the run directory.
    public var runtimeStates: RuntimeStateStore { RuntimeStateStore(directory: paths.runDirectory, host: host) }

    /// The host's process table.
    public var processTable: ProcessTable { ProcessTable(host: host) }

    /// The user's systemd unit directory.
    public var unitDirectory: String { "\(host.user.configHome)/systemd/user" }

    /// Whether systemd keeps this user's manager running without a login session.
    public var lingerEnabled: Bool { host.lingerEnabled }
}
