import Foundation

/// Why an agent cannot be launched.
public enum LaunchError: Error, Equatable, CustomStringConvertible {
    case runtimeNotFound(agent: String, binary: String, searched: [String])
    case workdirMissing(agent: String, path: String)
    case serverNotRunning(socket: String)
    case unmanagedServer(socket: String)

    public var description: String {
        switch self {
        case .runtimeNotFound(let agent, let binary, let searched):
            return "agent \"\(agent)\": runtime binary \"\(binary)\" not found; looked in \(searched.joined(separator: ":")). "
                + "Install it, set MOSAIC_RUNTIME_BIN to its directory, or give the agent a `command:` in the roster"
        case .workdirMissing(let agent, let path):
            return "agent \"\(agent)\": workdir \(path) does not exist; create it or fix `workdir:` in the roster"
        case .serverNotRunning(let socket):
            return "the fleet's tmux server (socket \"\(socket)\") is not running; start the holder first (`mosaic fleet up`)"
        case .unmanagedServer(let socket):
            return "a tmux server that \(FleetFiles.holderUnit) does not run already answers on socket \"\(socket)\" "
                + "(started without systemd); stop it with `mosaic fleet down`, then run `mosaic fleet up` again"
        }
    }
}

/// Builds the exact session an agent runs in: command, PATH and the MOSAIC_* environment.
public struct RuntimeLaunch: Sendable {
    public let context: FleetContext
    public let roster: Roster

    public init(context: FleetContext, roster: Roster) {
        self.context = context
        self.roster = roster
    }

    /// Directories a detached pane needs on PATH: it reads no shell rc file, so they are baked in.
    /// In order: `MOSAIC_RUNTIME_BIN`; npm's global prefix (the environment's, else `prefix=` in
    /// `~/.npmrc`) and `~/.npm-global`; nvm's current node (`NVM_BIN`, else its newest installed
    /// version: an npm-installed runtime needs that `node` on PATH too) and volta; pipx's app
    /// directory (`PIPX_BIN_DIR`, else `~/.local/bin`); bun and cargo; an active venv; mosaic's
    /// own directory; the caller's PATH; the system's.
    public var runtimeBinDirectories: [String] {
        let env = context.environment
        let home = context.host.user.home
        var dirs: [String] = []
        if let explicit = env["MOSAIC_RUNTIME_BIN"] { dirs += explicit.split(separator: ":").map(String.init) }
        if let prefix = env["npm_config_prefix"] ?? env["NPM_CONFIG_PREFIX"] ?? Self.npmrcPrefix(home: home, host: context.host) { dirs.append("\(prefix)/bin") }
        dirs.append("\(home)/.npm-global/bin")
        if let nvm = env["NVM_BIN"] { dirs.append(nvm) }
        if let newest = Self.nodeVersions(in: "\(env["NVM_DIR"] ?? home + "/.nvm")/versions/node", host: context.host).first { dirs.append(newest + "/bin") }
        dirs.append("\(env["VOLTA_HOME"] ?? home + "/.volta")/bin")
        if let pipx = env["PIPX_BIN_DIR"] { dirs.append(pipx) }
        dirs += ["\(home)/.local/bin", "\(home)/.bun/bin", "\(home)/.cargo/bin"]
        if let venv = env["VIRTUAL_ENV"] { dirs.append("\(venv)/bin") }
        dirs.append((context.mosaicExecutable as NSString).deletingLastPathComponent)
        dirs += (env["PATH"] ?? "").split(separator: ":").map(String.init)
        dirs += ["/usr/local/bin", "/usr/bin", "/bin"]
        var seen = Set<String>()
        return dirs.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Where a runtime's binary is looked for: the PATH directories, then each pipx app's own
    /// venv (`<PIPX_HOME>/venvs/<package>/bin`, for an app whose link is missing). Those venvs
    /// stay off the pane's PATH: their `python3` must not shadow the system's for everything else.
    public var runtimeSearchDirectories: [String] {
        let env = context.environment
        let pipxHome = env["PIPX_HOME"] ?? context.host.user.home + "/.local/share/pipx"
        let venvs = ((try? context.host.listDirectory(pipxHome + "/venvs")) ?? []).sorted()
        return runtimeBinDirectories + venvs.map { "\(pipxHome)/venvs/\($0)/bin" }
    }

    /// `prefix=` in `~/.npmrc` (what `npm config get prefix` reports when the user set one), with
    /// `~` and `${HOME}` expanded.
    static func npmrcPrefix(home: String, host: any Host = LocalHost()) -> String? {
        for line in (host.readFile(home + "/.npmrc", limit: 65536) ?? "").split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == "prefix", !parts[1].isEmpty else { continue }
            var value = parts[1].replacingOccurrences(of: "${HOME}", with: home)
            if value.hasPrefix("~/") { value = home + value.dropFirst() }
            return value
        }
        return nil
    }

    /// nvm's installed node versions (`vMAJOR.MINOR.PATCH` directories), newest first.
    static func nodeVersions(in directory: String, host: any Host = LocalHost()) -> [String] {
        let names = (try? host.listDirectory(directory)) ?? []
        let versions: [([Int], String)] = names.compactMap { name in
            guard name.hasPrefix("v") else { return nil }
            let numbers = name.dropFirst().split(separator: ".").map { Int($0) }
            guard numbers.count == 3, numbers.allSatisfy({ $0 != nil }) else { return nil }
            return (numbers.map { $0! }, "\(directory)/\(name)")
        }
        return versions.sorted { $0.0.lexicographicallyPrecedes($1.0) }.reversed().map(\.1)
    }

    public var panePath: String { runtimeBinDirectories.joined(separator: ":") }

    /// The pane command: PATH baked in, then (for runtimes that cannot heartbeat themselves) the
    /// sidecar started in the background with the pane's pid, then `exec` of the roster's
    /// `command` or the runtime's binary with its integration's arguments, so the runtime itself
    /// is the pane's process. PATH must be in the command line: tmux 3.3a replaces a session's
    /// `-e PATH=` with the tmux client's PATH for the first pane.
    public func command(for agent: AgentSpec) throws -> PaneCommand {
        let path = agent.env["PATH"] ?? panePath
        var prefix = "PATH=\(ShellQuote.quote(path)); export PATH; "
        let runtime = Runtimes.of(agent.runtime)
        if runtime.usesSidecar { prefix += sidecarLine(for: agent) + "; " }
        prefix += "exec "
        if let command = agent.command, !command.isEmpty {
            return .shell(prefix + command)
        }
        guard let binary = runtime.binary else {
            return .shell(prefix + ShellQuote.join([context.mosaicExecutable, "agent", "stub"]))
        }
        let dirs = runtimeSearchDirectories
        guard let resolved = context.host.findExecutable(binary, path: dirs.joined(separator: ":")) else {
            throw LaunchError.runtimeNotFound(agent: agent.name, binary: binary, searched: dirs)
        }
        let persona = personaDelivery(for: agent).map { $0.arguments + $0.toolArguments } ?? []
        return .shell(prefix + ShellQuote.join([resolved] + runtime.launch(integrationContext(for: agent)).arguments + persona))
    }

    /// How the agent's role persona reaches its runtime (docs/personas.md): from the persona file
    /// the launch wrote before (`PersonaFile.prepare`), with the role's tools where the runtime
    /// can be limited. Nil for an agent without a role, or whose role names no role in the library.
    public func personaDelivery(for agent: AgentSpec) -> PersonaDelivery? {
        guard let name = agent.role else { return nil }
        let file = PersonaFile(runDirectory: context.paths.runDirectory, agent: agent.name)
        guard let text = context.host.readFile(file.path, limit: 1 << 20) else { return nil }
        let library = try? RoleLibrary.load(directory: RoleLibrary.directory(home: context.paths.home), host: context.host)
        let tools = library?.roles.first { $0.name == name }?.tools ?? []
        // A roster `command:` decides for itself: it is told where the file is.
        if let command = agent.command, !command.isEmpty {
            return PersonaDelivery(mechanism: .environmentFile, environment: [(PersonaDelivery.personaFileVariable, file.path)])
        }
        return Runtimes.of(agent.runtime).persona(file: file.path, text: text, tools: tools)
    }

    /// `(mosaic internal sidecar … --pid $$ …&)`: `$$` is the pane's shell, which the `exec` that
    /// follows turns into the runtime. The subshell makes the sidecar an orphan (not a child the
    /// runtime would have to reap); stdio on /dev/null so it never holds the pane's terminal; the
    /// sidecar calls setsid() itself, leaving the pane's session and process group.
    func sidecarLine(for agent: AgentSpec) -> String {
        let argv = [context.mosaicExecutable, "internal", "sidecar", "--home", context.paths.home, "--agent", agent.name,
                    "--runtime", agent.runtime.rawValue, "--interval", String(roster.heartbeatIntervalSeconds)]
        return "(" + ShellQuote.join(argv) + " --pid $$ </dev/null >/dev/null 2>&1 &)"
    }

    /// What the runtime's integration is told about this agent.
    public func integrationContext(for agent: AgentSpec) -> IntegrationContext {
        IntegrationContext(agent: agent, files: AgentRuntimeFiles(runDirectory: context.paths.runDirectory, agent: agent.name),
                           hook: HookCommand(mosaic: context.mosaicExecutable, home: context.paths.home, agent: agent.name))
    }

    /// Files the runtime's integration needs written before the agent starts.
    public func files(for agent: AgentSpec) -> [AgentFile] {
        Runtimes.of(agent.runtime).launch(integrationContext(for: agent)).files
    }

    /// The environment set on the session itself (never inherited by luck from the server).
    public func environment(for agent: AgentSpec) -> [(String, String)] {
        var env: [(String, String)] = [
            ("MOSAIC_AGENT_NAME", agent.name),
            ("MOSAIC_TENANT_ID", roster.tenant),
            ("MOSAIC_HOST", roster.host),
            ("MOSAIC_HOME", context.paths.home),
            ("MOSAIC_HEARTBEAT_INTERVAL", String(roster.heartbeatIntervalSeconds)),
            ("MOSAIC_TMUX_SOCKET", roster.socketName),
            ("MOSAIC_RUNTIME", agent.runtime.rawValue),
            ("PATH", panePath),
        ]
        // The integration's own settings (aider's AIDER_*, opencode's config directory); the
        // roster's env comes last and wins.
        env += Runtimes.of(agent.runtime).launch(integrationContext(for: agent)).environment
        env += personaDelivery(for: agent)?.environment ?? []
        env += agent.env.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return env
    }

    public func session(for agent: AgentSpec) throws -> NewSession {
        var workdir: String?
        if let dir = agent.workdir {
            let expanded = FleetContext.expandTilde(dir, home: context.environment["HOME"])
            guard context.host.isDirectory(expanded) else {
                throw LaunchError.workdirMissing(agent: agent.name, path: expanded)
            }
            workdir = expanded
        }
        return NewSession(name: agent.name, command: try command(for: agent), workdir: workdir ?? context.environment["HOME"],
                          environment: environment(for: agent))
    }
}
