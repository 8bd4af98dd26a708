import Foundation

/// Everything the fleet knows about one runtime, in one type per runtime, each in its own file
/// under Runtime/Adapters: how it is launched (binary, arguments, environment, the files it needs
/// and leaves in the run directory), what it runs as (drift), what its input line looks like and
/// how to reset it, and how it reports its state (hooks, event files the sidecar follows).
/// `Runtimes.of(kind)` is the one place that maps a roster's `runtime:` to its type.
public protocol Runtime: Sendable {
    var kind: RuntimeKind { get }

    // MARK: launch

    /// Binary name looked up on the runtime PATH when the roster gives no `command`; `nil`: mosaic
    /// runs something of its own (the stub) or nothing (custom, whose roster names a command).
    var binary: String? { get }
    /// The roster must give the agent a `command:` (there is nothing to run otherwise).
    var needsCommand: Bool { get }
    /// What mosaic adds to the launch: arguments (only when mosaic builds the command, i.e. the
    /// roster gives no `command:`), session environment and files (always).
    func launch(_ context: IntegrationContext) -> LaunchAdditions
    /// Every file this runtime may leave in the run directory for `files`' agent (what `launch`
    /// writes and what its hooks keep), so `down` removes them whichever runtime the roster names now.
    func runFiles(_ files: AgentRuntimeFiles) -> [String]
    /// How a role's persona reaches it without being typed into the conversation (see
    /// docs/personas.md, measured per version), and how its tools are limited where it can be.
    func persona(file: String, text: String, tools: [String]) -> PersonaDelivery

    // MARK: process

    /// Process names (`/proc/<pid>/comm`, tmux `pane_current_command`) this runtime legitimately
    /// runs as. `nil`: the fleet cannot know (custom), so it never flags drift.
    var expectedCommands: Set<String>? { get }

    // MARK: input

    /// What its input line looks like, tried in order (see `InputLineReader.shapes(for:command:)`).
    /// Empty: the fleet cannot tell a draft from a prompt, so `send` refuses without `--force`.
    var inputShapes: [InputShape] { get }
    /// What to type to reset a conversation, if the runtime has such a command.
    var resetCommand: String? { get }
    /// Its reset command goes with the message frame (so it can be acknowledged too).
    var framesReset: Bool { get }
    /// It records `ack=<id>` when it takes a framed message (`send --verify`).
    var acknowledgesMessages: Bool { get }
    /// Its own interface runs on the alternate screen; for others a full-screen program in the
    /// pane (an editor, a pager) means the runtime is not at its prompt.
    var usesAlternateScreen: Bool { get }
    /// Its screen keeps changing while it works (a spinner, a timer), so a busy report with a
    /// still screen means it hangs or the report is stale.
    var animatesWhileBusy: Bool { get }

    // MARK: state

    /// True when a sidecar keeps the agent's heartbeat: the runtime cannot write one itself.
    var usesSidecar: Bool { get }
    /// Where `mosaic agent hook` finds the payload of this runtime's hook calls.
    var payloadSource: HookPayloadSource { get }
    /// Turns one hook call into a state change; `nil`: the event says nothing about state.
    func update(event: String, payload: HookPayload) -> StatusUpdate?
    /// Files the runtime appends events to, which the sidecar follows. `environment` is the
    /// sidecar's own, inherited from the agent's session (so a roster `env:` override is seen).
    func eventSources(files: AgentRuntimeFiles, environment: [String: String]) -> [any RuntimeEventSource]
    /// Files a hook call leaves for the sidecar besides the state (Claude Code: where its
    /// transcript is, which the hooks learn from their payload and the sidecar cannot).
    func remember(event: String, payload: HookPayload, files: AgentRuntimeFiles) -> [AgentFile]
}

/// What a runtime that says nothing else has: no files, no flags, a sidecar, JSON hooks on stdin.
extension Runtime {
    public func runFiles(_ files: AgentRuntimeFiles) -> [String] { [] }
    /// The default: the file's path in `MOSAIC_PERSONA_FILE` (the stub reads it; a custom command may).
    public func persona(file: String, text: String, tools: [String]) -> PersonaDelivery {
        .init(mechanism: .environmentFile, environment: [(PersonaDelivery.personaFileVariable, file)])
    }
    public var needsCommand: Bool { false }
    public var framesReset: Bool { false }
    public var acknowledgesMessages: Bool { false }
    public var usesAlternateScreen: Bool { false }
    public var animatesWhileBusy: Bool { false }
    public var usesSidecar: Bool { true }
    public var payloadSource: HookPayloadSource { .standardInput }
    public func eventSources(files: AgentRuntimeFiles, environment: [String: String]) -> [any RuntimeEventSource] { [] }
    public func remember(event: String, payload: HookPayload, files: AgentRuntimeFiles) -> [AgentFile] { [] }

    /// True when `command` is something this runtime never runs as. Unknown input is never drift.
    public func isDrift(paneCommand command: String?) -> Bool? {
        guard let expected = expectedCommands, let command, !command.isEmpty else { return nil }
        if expected.contains(command) { return false }
        // python3.11 and friends
        if expected.contains("python"), command.hasPrefix("python") { return false }
        return true
    }
}

/// The name the steering and probe code give a runtime's value.
public typealias RuntimeAdapter = any Runtime

/// The runtime of each kind: the one place that switches over `RuntimeKind`.
public enum Runtimes {
    public static func of(_ kind: RuntimeKind) -> any Runtime {
        switch kind {
        case .claude: return ClaudeRuntime()
        case .codex: return CodexRuntime()
        case .pi: return PiRuntime()
        case .opencode: return OpencodeRuntime()
        case .aider: return AiderRuntime()
        case .stub: return StubRuntime()
        case .custom: return CustomRuntime()
        }
    }

    /// Every runtime, in `RuntimeKind` order.
    public static var all: [any Runtime] { RuntimeKind.allCases.map(of) }
}

/// Where a hook's payload arrives.
public enum HookPayloadSource: Sendable, Equatable {
    /// JSON on standard input (Claude Code hooks, the pi extension, the opencode plugin).
    case standardInput
    /// JSON as the last argument (Codex appends it to its `notify` command).
    case lastArgument
    /// No payload: standard input is the runtime's terminal and must not be read (aider).
    case none
}

/// Everything the runtime-specific code needs to know about the agent being launched.
public struct IntegrationContext: Sendable {
    public var agent: AgentSpec
    public var files: AgentRuntimeFiles
    public var hook: HookCommand

    public init(agent: AgentSpec, files: AgentRuntimeFiles, hook: HookCommand) {
        self.agent = agent
        self.files = files
        self.hook = hook
    }
}

/// What an integration adds to an agent's launch.
public struct LaunchAdditions: Sendable, Equatable {
    public var arguments: [String]
    public var environment: [(String, String)]
    public var files: [AgentFile]

    public init(arguments: [String] = [], environment: [(String, String)] = [], files: [AgentFile] = []) {
        self.arguments = arguments
        self.environment = environment
        self.files = files
    }

    public static func == (a: LaunchAdditions, b: LaunchAdditions) -> Bool {
        a.arguments == b.arguments && a.files == b.files
            && a.environment.elementsEqual(b.environment, by: ==)
    }
}

/// A file written before an agent starts and removed when it stops (`fleet down`).
public struct AgentFile: Sendable, Equatable {
    public var path: String
    public var contents: String

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

/// The command a runtime's hooks run: `mosaic agent hook` with the agent and home spelled out,
/// so it works whatever environment the runtime gives its hooks.
public struct HookCommand: Sendable, Equatable {
    public var mosaic: String
    public var home: String
    public var agent: String

    public init(mosaic: String, home: String, agent: String) {
        self.mosaic = mosaic
        self.home = home
        self.agent = agent
    }

    public func argv(_ runtime: RuntimeKind, _ event: String) -> [String] {
        [mosaic, "agent", "hook", "--home", home, "--agent", agent, runtime.rawValue, event]
    }

    /// For runtimes that run their hook through a shell (Claude Code `command`, aider's
    /// `--notifications-command`): the runtime's interface is a command line, so it is quoted here.
    public func shellLine(_ runtime: RuntimeKind, _ event: String) -> String {
        ShellQuote.join(argv(runtime, event))
    }
}

/// A hook's JSON payload, read leniently: runtimes add fields over time, so only the fields an
/// adapter needs are read and everything else is ignored.
/// Unchecked: immutable once parsed (JSONSerialization's strings, numbers, arrays, dictionaries), so no lock.
public struct HookPayload: @unchecked Sendable {
    public let object: [String: Any]

    public init(object: [String: Any] = [:]) { self.object = object }

    /// Parses a JSON object; empty input is an empty payload (aider passes none).
    public static func parse(_ data: Data) throws -> HookPayload {
        guard !data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return HookPayload() }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw HookPayloadError.notJSON(String(decoding: data.prefix(80), as: UTF8.self))
        }
        guard let object = value as? [String: Any] else {
            throw HookPayloadError.notAnObject(String(decoding: data.prefix(80), as: UTF8.self))
        }
        return HookPayload(object: object)
    }

    public func string(_ key: String) -> String? { object[key] as? String }
    public func bool(_ key: String) -> Bool? { object[key] as? Bool }
    public func object(_ key: String) -> HookPayload? { (object[key] as? [String: Any]).map(HookPayload.init) }
    /// The texts of a message's `content`: the string itself, or each part's `text` whose
    /// `type` is `text` (the chat APIs' two forms).
    public func texts() -> [String] {
        if let text = object["content"] as? String { return [text] }
        return (object["content"] as? [Any] ?? []).compactMap { part in
            guard let part = part as? [String: Any], part["type"] as? String == "text" else { return nil }
            return part["text"] as? String
        }
    }
}

public enum HookPayloadError: Error, Equatable, CustomStringConvertible {
    case notJSON(String)
    case notAnObject(String)

    public var description: String {
        switch self {
        case .notJSON(let start): return "the hook payload is not JSON (it starts with \"\(start)\")"
        case .notAnObject(let start): return "the hook payload is not a JSON object (it starts with \"\(start)\")"
        }
    }
}

/// A file a runtime appends events to, followed by the sidecar.
public protocol RuntimeEventSource: AnyObject {
    /// The state changes in what was appended since the last call, and what could not be read.
    func poll() -> EventPoll
}

/// What one look at an event file found.
public struct EventPoll: Sendable, Equatable {
    public var updates: [StatusUpdate]
    public var problems: [String]

    public init(updates: [StatusUpdate] = [], problems: [String] = []) {
        self.updates = updates
        self.problems = problems
    }
}
