import ArgumentParser
import FleetCore
import Foundation

struct AgentNew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Define an agent from a role, write it into the roster, start it and wait until it is healthy.",
        discussion: """
        The roster file keeps every other line byte for byte: the entry is appended under `agents:` in the file's own style. \
        Where systemd runs, the agent's unit is enabled. Runtime, model and effort come from the role unless given.

        Exit status: 0 added (and healthy, unless --no-start); 1 it failed to start; 64 a name outside the pattern or an \
        unknown --runtime; 65 unknown role, name taken, missing workdir, or a roster that cannot be edited (nothing written); \
        75 started but not healthy within --timeout.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The new agent's name (letters, digits, '-', '_').") var name: String
    @Option(help: "The role to take (see `mosaic role ls`).") var role: String
    @Option(help: "Runtime (default: the role's): \(RuntimeKind.allNames).") var runtime: String?
    @Option(help: "Model (default: the role's).") var model: String?
    @Option(help: "Effort (default: the role's).") var effort: String?
    @Option(help: "Working directory (must exist).") var workdir: String?
    @Flag(help: "Only write the definition (and enable its unit); do not start it.") var noStart = false
    @Option(help: "Seconds to wait until the agent is healthy.") var timeout: Int = 30
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard AgentName.isValid(name) else { throw ValidationError(RosterError.invalidAgentName(name).description) }
        if let runtime, RuntimeKind(rawValue: runtime) == nil {
            throw ValidationError("unknown runtime \"\(runtime)\"; use one of \(RuntimeKind.allNames)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() async throws {
        try await guarded {
            let context = global.context
            let library = try RoleLibrary.load(directory: RoleLibrary.directory(home: context.paths.home))
            let chosen = try library.role(named: role)
            let spec = try AgentDefinition.spec(name: name, role: chosen, runtime: runtime.flatMap(RuntimeKind.init(rawValue:)),
                                                model: model, effort: effort, workdir: try resolvedWorkdir(context))
            let file = RosterFile(path: context.paths.roster)
            // The daemon must not start the new agent on its own while this verb does.
            let operation = try FleetOperation.lock(context.paths)
            defer { operation.release() }
            let edited = try RosterEditor(text: try file.read(), path: file.path,
                                          loader: RosterLoader(defaults: context.rosterDefaults)).adding(spec)
            try file.replace(with: edited)
            let roster = try context.loadRoster()
            let launcher = try Launcher(context: context, roster: roster)
            var report = AgentNewReport(spec: spec, roster: file.path, via: launcher.useSystemd ? "systemd" : "tmux")
            if launcher.useSystemd {
                try await UnitInstaller(context: context, roster: roster).install()
                try await context.systemctl.enable([FleetFiles.agentUnit(name)])
                report.enabled = true
            }
            if !noStart {
                try PersonaFile(runDirectory: context.paths.runDirectory, agent: name).write(chosen)
                let since = Date(), startedAt = ContinuousClock.now
                let outcomes = try await launcher.up([spec])
                report.outcome = outcomes.first
                if let outcome = outcomes.first, outcome.action == .failed {
                    emit(report)
                    Console.error("agent \"\(name)\" is in the roster but failed to start: \(outcome.detail ?? "no detail"); see `mosaic fleet ps`")
                    throw ExitCode(ExitStatus.failure)
                }
                let wait = HealthWait(store: context.heartbeats, interval: roster.heartbeatIntervalSeconds)
                let tmux = launcher.tmux, agent = name
                report.health = await wait.wait(name, since: since, startedAt: startedAt, timeout: .seconds(timeout)) {
                    await Self.paneProblem(tmux, agent)
                }
                if case .notHealthy(let reason)? = report.health {
                    emit(report)
                    Console.error("agent \"\(name)\" started but is not healthy after \(timeout)s: \(reason); see `mosaic fleet ps` and `mosaic agent tail \(name)`")
                    throw ExitCode(ExitStatus.timedOut)
                }
            }
            emit(report)
        }
    }

    func resolvedWorkdir(_ context: FleetContext) throws -> String? {
        guard let workdir else { return nil }
        var path = FleetContext.expandTilde(workdir, home: context.environment["HOME"])
        if !path.hasPrefix("/") { path = context.host.currentDirectory + "/" + path }
        path = (path as NSString).standardizingPath
        guard context.host.isDirectory(path) else {
            throw LaunchError.workdirMissing(agent: name, path: path)
        }
        return path
    }

    /// A pane that died says why at once, instead of the wait running out. A tmux that cannot be
    /// asked tells nothing here (nil): the wait's own deadline then reports what the heartbeat shows.
    static func paneProblem(_ tmux: Tmux, _ name: String) async -> String? {
        guard let panes = try? await tmux.listPanes() else { return nil }
        guard let pane = panes.first(where: { $0.sessionName == name }) else { return "its tmux session is gone" }
        return pane.dead ? "its runtime exited (pane dead)" : nil
    }

    func emit(_ report: AgentNewReport) { Console.out(report.rendered(json: json)) }
}

struct AgentRm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Stop an agent and remove its definition from the roster (every other line kept byte for byte).",
        discussion: "Where systemd runs, the agent's unit is stopped and disabled. Exit status: 0 removed; 64 a name outside the pattern; 65 no such agent, or a roster that cannot be edited (nothing written)."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent to remove.") var name: String
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard AgentName.isValid(name) else { throw ValidationError(RosterError.invalidAgentName(name).description) }
    }

    func run() async throws {
        try await guarded {
            let context = global.context
            let file = RosterFile(path: context.paths.roster)
            // The daemon must not restart the agent between its stop and its removal from the roster.
            let operation = try FleetOperation.lock(context.paths)
            defer { operation.release() }
            let editor = RosterEditor(text: try file.read(), path: file.path, loader: RosterLoader(defaults: context.rosterDefaults))
            // Edit first (in memory): a roster that cannot be edited safely stops nothing.
            let edited = try editor.removing(name)
            let roster = try context.loadRoster()
            let launcher = try Launcher(context: context, roster: roster)
            let result = try await launcher.down(try roster.select([name]), all: false)
            if launcher.useSystemd { try await context.systemctl.run(["disable", FleetFiles.agentUnit(name)]) }
            PersonaFile(runDirectory: context.paths.runDirectory, agent: name).remove()
            try file.replace(with: edited)
            let action = result.outcomes.first?.action ?? .notRunning
            Console.out(AgentRemoveReport(name: name, tenant: roster.tenant, host: roster.host, roster: file.path, action: action).rendered(json: json))
        }
    }
}
