import ArgumentParser
import FleetCore
import FleetDaemon
import Foundation

/// Options `send` and `reset` share.
struct SteerOptions: ParsableArguments {
    @Flag(help: "Wait for a verdict: accepted, draft, busy or unverifiable (see the exit codes below).")
    var verify = false
    @Option(help: ArgumentHelp("How long --verify waits for evidence, in seconds.", valueName: "seconds"))
    var verifyTimeout: Double = 5
    @Option(help: ArgumentHelp("How long to wait for the agent's prompt before giving up as busy, in seconds.", valueName: "seconds"))
    var readyTimeout: Double = 10
    @Flag(help: "If the input line holds a draft, clear it (it is printed, not lost) instead of refusing.")
    var force = false
    @Flag(help: "Print the outcome as JSON.") var json = false

    func validate() throws {
        for (flag, value) in [("--verify-timeout", verifyTimeout), ("--ready-timeout", readyTimeout)] where !(value > 0 && value <= 3600) {
            throw ValidationError("\(flag) must be between 0 and 3600 seconds, not \(value)")
        }
    }

    var sendOptions: SendOptions {
        var options = SendOptions()
        options.verify = verify
        options.force = force
        options.verifyTimeout = .milliseconds(Int(verifyTimeout * 1000))
        options.readyTimeout = .milliseconds(Int(readyTimeout * 1000))
        return options
    }

    static let verdictHelp = """
    Verdicts (--verify) and exit status: accepted 0 · draft 3 (the text sits unsubmitted, or an \
    operator's draft made mosaic refuse) · unverifiable 3 (no evidence either way) · busy 75 (not \
    at its prompt in time; nothing typed). Without --verify a send that was typed and submitted exits 0.
    """
}

/// Sends `message` and prints the outcome; a negative verdict becomes its exit code.
func deliver(_ message: Message, to target: AgentTarget, options: SendOptions, json: Bool) async throws {
    let sender = Sender(tmux: target.tmux, store: target.context.heartbeats, agent: target.name, adapter: target.adapter, options: options)
    let outcome = try await sender.send(message)
    if json { try Console.json(outcome) } else { Console.out(outcome.line + "\n") }
    if let cleared = outcome.clearedDraft, !json { Console.note("cleared the operator's draft: \(cleared)") }
    // The verdict is printed first; the journal keeps what was sent and how it ended, never the text.
    let event = JournalEvent(ts: Date(), tenant_id: target.roster.tenant, host: target.roster.host, agent: target.name, kind: .messageSent,
                             detail: EventDetail(message: outcome.typed ? (outcome.submitted ? "submitted" : "typed, not submitted") : "nothing typed",
                                                 messageId: outcome.id, verdict: outcome.verdict?.rawValue, bytes: outcome.bytes),
                             actor: target.context.userName)
    await DaemonHooks.record([event], paths: target.context.paths)
    let code = ExitStatus.code(for: outcome)
    if code != ExitStatus.success { throw ExitCode(code) }
}

struct AgentSend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Type a message into an agent's input line, safely; with --verify, learn whether it was accepted.",
        discussion: """
        The message comes from -m/--message or standard input, and is sent as \
        `[mosaic msg=<id> from=<label>] <message>` so the runtime can acknowledge that exact message \
        (the stub does, in its heartbeat). Long and multi-line messages go as one bracketed paste. \
        mosaic refuses to type into an input line that already holds text it did not type (an \
        operator's draft; --force clears it), never presses Enter on text it did not type, never types \
        while the agent's heartbeat says an approval prompt is open (not even with --force: its keys \
        answer the prompt; use `mosaic agent attach`), and serializes concurrent sends to one agent.

        \(SteerOptions.verdictHelp)
        """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent to send to.") var name: String
    @Option(name: [.short, .long], help: "The message (default: read standard input).") var message: String?
    @Option(help: ArgumentHelp("Who the message is from, in its frame (default: user@host).", valueName: "label"))
    var sourceLabel: String?
    @Option(help: ArgumentHelp("The message id (default: a fresh one); letters, digits and '-'.", valueName: "id"))
    var id: String?
    @Flag(help: "Send the text alone, without the [mosaic msg=…] frame (for shells and REPLs); no acknowledgement is possible.")
    var noFrame = false
    @Flag(help: "Type the message but do not press Enter (it is left for the operator; --verify then says draft).")
    var noSubmit = false
    @OptionGroup var steer: SteerOptions

    func validate() throws {
        if let id, !Message.isValidId(id) { throw ValidationError(MessageError.badId(id).description) }
        if let sourceLabel, !Message.isValidLabel(sourceLabel) { throw ValidationError(MessageError.badLabel(sourceLabel).description) }
        if message == nil && isatty(STDIN_FILENO) == 1 {
            throw ValidationError("give the message with -m/--message or on standard input")
        }
    }

    func run() async throws {
        try await guarded {
            let text = try message ?? Self.readStandardInput()
            let target = try await AgentTarget.resolve(name, global: global)
            let label = sourceLabel ?? Self.defaultLabel(target.context)
            let framed = try Message(id: id ?? Message.newId(), label: label, text: text, framed: !noFrame)
            var options = steer.sendOptions
            options.submit = !noSubmit
            try await deliver(framed, to: target, options: options, json: steer.json)
        }
    }

    static func defaultLabel(_ context: FleetContext) -> String {
        let label = "\(context.userName)@\(context.hostName)"
        return Message.isValidLabel(label) ? label : "mosaic"
    }

    static func readStandardInput() throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(data: data, encoding: .utf8) else {
            throw MessageError.controlCharacter(line: 1, code: 0xFFFD)
        }
        return text
    }
}

struct AgentReset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Send the runtime's reset command (stub: /reset, claude: /clear, codex: /new, …).",
        discussion: """
        Goes through the same safe path as `send`: no typing into a draft, Enter only on what mosaic \
        typed. With --verify, reports whether the reset took (the stub acknowledges it in its heartbeat).

        \(SteerOptions.verdictHelp)
        """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent to reset.") var name: String
    @OptionGroup var steer: SteerOptions

    func run() async throws {
        try await guarded {
            let target = try await AgentTarget.resolve(name, global: global)
            let adapter = target.adapter
            guard let command = adapter.resetCommand else {
                throw SendError.noResetCommand(agent: name, runtime: adapter.kind.rawValue)
            }
            let message = try Message(id: Message.newId(), label: AgentSend.defaultLabel(target.context), text: command,
                                      framed: adapter.framesReset)
            try await deliver(message, to: target, options: steer.sendOptions, json: steer.json)
        }
    }
}
