import ArgumentParser
import FleetCore
import Foundation

struct AgentRoster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "roster", abstract: "List the roster's agents.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of the table.") var json = false

    func run() async throws {
        try await guarded {
            let roster = try global.context.loadRoster()
            if json {
                try Console.json(roster.agents.map { RosterEntry($0, in: roster) })
                return
            }
            Console.out("tenant \(roster.tenant) · host \(roster.host) · socket \(roster.socketName) · heartbeat every \(roster.heartbeatIntervalSeconds)s\n")
            Console.out(Table(
                columns: [.init("AGENT"), .init("RUNTIME"), .init("ROLE"), .init("WORKDIR"), .init("COMMAND", shrinkable: true)],
                rows: roster.agents.map { [Table.Cell($0.name), Table.Cell($0.runtime.rawValue), Table.Cell($0.role ?? "-"),
                                           Table.Cell($0.workdir ?? "-"), Table.Cell($0.command ?? "(runtime default)")] }
            ).rendered(width: Console.width, color: Console.useColor))
        }
    }
}

/// The agent this process runs as, from the environment its session carries.
struct AgentIdentity {
    let name: String
    let store: HeartbeatStore
    let interval: Int

    static func fromEnvironment(home: String?) throws -> AgentIdentity {
        let env = ProcessInfo.processInfo.environment
        guard let name = env["MOSAIC_AGENT_NAME"], !name.isEmpty else {
            throw ValidationError("MOSAIC_AGENT_NAME is not set; run this inside an agent's pane (mosaic sets it) or export it")
        }
        guard AgentName.isValid(name) else { throw ValidationError(RosterError.invalidAgentName(name).description) }
        let homeDir = FleetContext.resolveHome(option: home, environment: env)
        let interval = env["MOSAIC_HEARTBEAT_INTERVAL"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? Roster.defaultHeartbeatInterval
        return AgentIdentity(name: name, store: HeartbeatStore(directory: FleetPaths(home: homeDir).runDirectory), interval: interval)
    }
}

struct AgentHeartbeat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat",
        abstract: "Write one heartbeat for the agent named in MOSAIC_AGENT_NAME (for the stub and custom runtimes).",
        discussion: """
        Answers a pending probe too (its nonce is echoed). The file is replaced atomically.

        Refused in the pane of a claude, codex, pi, opencode or aider agent (MOSAIC_RUNTIME): their \
        sidecar writes the heartbeat, only while the runtime runs, so nothing else in the pane can \
        keep a stopped or dead runtime looking healthy. Their hooks report state with `mosaic agent hook`.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Status to report: ok, busy or waiting.") var status: String = "ok"
    @Option(help: "Acknowledge this message id.") var ack: String?
    @Option(help: "Process id to report (default: the caller, i.e. this command's parent).") var pid: Int32?

    func validate() throws {
        guard ["ok", "busy", "waiting"].contains(status) else { throw ValidationError("--status must be ok, busy or waiting, not \"\(status)\"") }
        if let ack, ack.isEmpty || !ack.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            throw ValidationError("--ack takes a message id of letters, digits and '-'")
        }
        if let runtime = ProcessInfo.processInfo.environment["MOSAIC_RUNTIME"].flatMap(RuntimeKind.init(rawValue:)),
           Runtimes.of(runtime).usesSidecar {
            throw ValidationError("this pane runs a \(runtime.rawValue) agent (MOSAIC_RUNTIME), whose heartbeat only its sidecar writes, "
                + "while \(runtime.rawValue) runs; report its state with `mosaic agent hook` instead")
        }
    }

    func run() async throws {
        try await guarded {
            let me = try AgentIdentity.fromEnvironment(home: global.home)
            let previous = me.store.read(me.name)
            try me.store.write(Heartbeat(ts: Date(), pid: pid ?? getppid(), status: status,
                                         nonce: me.store.pendingProbe(me.name), ack: ack ?? previous?.ack), for: me.name)
        }
    }
}

struct AgentStub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stub",
        abstract: "The built-in stub runtime: a line-oriented chat agent that heartbeats and answers probes.",
        discussion: """
        Reads MOSAIC_AGENT_NAME, MOSAIC_HOME and MOSAIC_HEARTBEAT_INTERVAL from its session. Exits on EOF or SIGTERM.

        MOSAIC_STUB_RECORD=<file>: keep the last message received, exactly, in that file.
        MOSAIC_PERSONA_FILE=<file>: the persona to show when it starts (default: <home>/fleet/run/<agent>.persona.md, if present).
        """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "How long each reply keeps the stub busy, in milliseconds (default: $MOSAIC_STUB_BUSY_MS or 300).")
    var busyMs: Int?

    func run() async throws {
        try await guarded {
            let me = try AgentIdentity.fromEnvironment(home: global.home)
            let busy = busyMs ?? ProcessInfo.processInfo.environment["MOSAIC_STUB_BUSY_MS"].flatMap(Int.init) ?? 300
            let responder = HeartbeatResponder(store: me.store, agent: me.name, interval: .seconds(me.interval))
            let record = ProcessInfo.processInfo.environment["MOSAIC_STUB_RECORD"].flatMap { $0.isEmpty ? nil : $0 }
            let stub = StubAgent(options: .init(name: me.name, busy: .milliseconds(max(0, busy)), record: record), responder: responder)
            if let persona = PersonaFile.forStub(environment: ProcessInfo.processInfo.environment, runDirectory: me.store.directory, agent: me.name) {
                Console.out(PersonaFile.stubBanner(path: persona.path, text: persona.text))
            }
            // SIGTERM: leave cleanly, with the terminal's paste mode restored.
            signal(SIGTERM, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
            source.setEventHandler {
                responder.stop()
                if isatty(STDIN_FILENO) == 1 { FileHandle.standardOutput.write(Data("\u{1B}[?2004l".utf8)) }
                Foundation.exit(0)
            }
            source.resume()
            stub.run(readLine: { Swift.readLine(strippingNewline: true) })
        }
    }
}
