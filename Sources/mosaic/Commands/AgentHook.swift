import ArgumentParser
import FleetCore
import Foundation

struct AgentHook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Record what a runtime's hook says (busy, waiting) for the agent's heartbeat.",
        discussion: """
        The hooks mosaic installs for a runtime call this: Claude Code hooks and the pi and opencode \
        plugins pass their JSON on stdin, Codex's notify appends it as the last argument, aider passes \
        none (its stdin is the terminal and is not read). The state goes to <home>/fleet/run/<agent>.state; \
        the agent's sidecar carries it into the heartbeat at once. Prints nothing: Claude Code adds a \
        UserPromptSubmit hook's output to the model's context.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The agent (default: $MOSAIC_AGENT_NAME).") var agent: String?
    @Argument(help: "The runtime whose hook this is: \(RuntimeKind.allNames).") var runtime: String
    @Argument(help: "The hook event (Claude Code: its hook_event_name).") var event: String
    @Argument(help: "The payload, for runtimes that pass it as an argument (codex notify).") var payload: String?

    func validate() throws {
        guard RuntimeKind(rawValue: runtime) != nil else {
            throw ValidationError("unknown runtime \"\(runtime)\"; one of \(RuntimeKind.allNames)")
        }
        if let agent, !AgentName.isValid(agent) { throw ValidationError(RosterError.invalidAgentName(agent).description) }
    }

    func run() async throws {
        try await guarded {
            let env = ProcessInfo.processInfo.environment
            guard let name = agent ?? env["MOSAIC_AGENT_NAME"], !name.isEmpty else {
                throw ValidationError("no agent: pass --agent or run inside an agent's pane (MOSAIC_AGENT_NAME)")
            }
            let kind = RuntimeKind(rawValue: runtime)!
            let home = FleetContext.resolveHome(option: global.home, environment: env)
            let call = HookCall(runtime: kind, event: event, payload: readPayload(Runtimes.of(kind).payloadSource))
            try call.record(for: name, in: RuntimeStateStore(directory: FleetPaths(home: home).runDirectory))
        }
    }

    func readPayload(_ source: HookPayloadSource) -> Data {
        switch source {
        case .standardInput:
            // A terminal on stdin means no payload was piped; reading it would steal keystrokes.
            return isatty(STDIN_FILENO) == 1 ? Data() : FileHandle.standardInput.readDataToEndOfFile()
        case .lastArgument: return Data((payload ?? "").utf8)
        case .none: return Data()
        }
    }
}
