import Foundation

/// Writes the fleet's units into the user's unit directory; installing twice is harmless.
public struct UnitInstaller: Sendable {
    public let context: FleetContext
    public let roster: Roster

    public init(context: FleetContext, roster: Roster) {
        self.context = context
        self.roster = roster
    }

    /// Unit file name → text, as this roster and binary want them.
    public func unitFiles(tmuxPath: String) -> [String: String] {
        [
            FleetFiles.holderUnit: FleetFiles.holderUnitText(
                tmuxPath: tmuxPath, socket: roster.socketName, config: context.paths.tmuxConfig,
                mosaic: context.mosaicExecutable, home: context.paths.home),
            FleetFiles.agentTemplate: FleetFiles.agentTemplateText(
                mosaic: context.mosaicExecutable, home: context.paths.home, environmentFile: context.paths.unitEnvironmentFile),
            FleetFiles.daemonUnit: FleetFiles.daemonUnitText(
                mosaic: context.mosaicExecutable, home: context.paths.home, environmentFile: context.paths.unitEnvironmentFile),
        ]
    }

    /// The agent units' environment file: the PATH a pane gets when launched from this shell.
    public var environmentFileText: String {
        "# Written by `mosaic fleet init` and `fleet up`: the PATH of the shell that ran them.\n"
            + UnitQuote.environmentFileLine("PATH", RuntimeLaunch(context: context, roster: roster).panePath) + "\n"
            // `MOSAIC_SUPERVISE=off`: the daemon observes and journals but restarts nothing.
            + (context.environment["MOSAIC_SUPERVISE"].map { UnitQuote.environmentFileLine("MOSAIC_SUPERVISE", $0) + "\n" } ?? "")
    }

    /// Writes what differs; returns the names written (empty: already up to date).
    @discardableResult
    public func install() async throws -> [String] {
        guard let tmuxPath = context.host.findExecutable("tmux", path: context.environment["PATH"]) else { throw TmuxError.notInstalled }
        let host = context.host
        try host.makeDirectory(context.unitDirectory, mode: 0o755)
        var written: [String] = []
        for (name, text) in unitFiles(tmuxPath: tmuxPath).sorted(by: { $0.key < $1.key }) {
            let path = "\(context.unitDirectory)/\(name)"
            if host.readFile(path) == text { continue }
            try host.writeFile(text, to: path, mode: 0o644)
            written.append(name)
        }
        if !written.isEmpty { try await context.systemctl.daemonReload() }
        // Read by systemd each time a unit starts: no reload needed when it changes.
        let envFile = context.paths.unitEnvironmentFile
        if host.readFile(envFile) != environmentFileText {
            try host.makeDirectory(context.paths.fleetDirectory, mode: 0o755)
            try host.writeFile(environmentFileText, to: envFile, mode: 0o600)
        }
        return written
    }

    public var isInstalled: Bool {
        [FleetFiles.holderUnit, FleetFiles.agentTemplate].allSatisfy {
            context.host.fileExists("\(context.unitDirectory)/\($0)")
        }
    }

    /// The units this roster's agents need enabled (and the holder).
    public var unitsToEnable: [String] {
        [FleetFiles.holderUnit, FleetFiles.daemonUnit] + roster.agents.map { FleetFiles.agentUnit($0.name) }
    }

    /// Units enabled by a symlink in `default.target.wants`, read without a systemctl call.
    /// A missing directory means nothing is enabled; one that cannot be read is an error.
    public static func enabledUnits(in unitDirectory: String, host: any Host = LocalHost()) throws -> Set<String> {
        let wants = "\(unitDirectory)/default.target.wants"
        guard host.fileExists(wants) else { return [] }
        return Set(try host.listDirectory(wants))
    }
}

extension FleetPaths {
    /// Environment file of the agent units (PATH), next to the roster.
    public var unitEnvironmentFile: String { "\(fleetDirectory)/units.env" }
}
