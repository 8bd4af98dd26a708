import Foundation

/// How a persona reaches one runtime without being typed into its conversation: pure data
/// (arguments, environment, files) that a runtime's launch can add. Measured per runtime and
/// version in docs/personas.md.
public struct PersonaDelivery: Sendable, Equatable {
    /// The mechanism, for documentation and `role show`.
    public enum Mechanism: String, Sendable, Equatable {
        /// A flag that appends the text (or a file's text) to the runtime's system prompt.
        case systemPromptFlag = "system-prompt-flag"
        /// A configuration value carrying developer instructions.
        case developerInstructions = "developer-instructions"
        /// A file the runtime loads as read-only context.
        case readOnlyContext = "read-only-context"
        /// An instructions file named in configuration given through the environment.
        case instructionsConfig = "instructions-config"
        /// An environment variable naming the persona file.
        case environmentFile = "environment-file"
        /// Nothing mosaic can pass: a custom command decides for itself.
        case none
    }

    public var mechanism: Mechanism
    public var arguments: [String]
    public var environment: [(String, String)]
    /// Arguments that restrict the runtime's tools, where it has such a switch.
    public var toolArguments: [String]

    public init(mechanism: Mechanism, arguments: [String] = [], environment: [(String, String)] = [], toolArguments: [String] = []) {
        self.mechanism = mechanism
        self.arguments = arguments
        self.environment = environment
        self.toolArguments = toolArguments
    }

    public static func == (a: PersonaDelivery, b: PersonaDelivery) -> Bool {
        a.mechanism == b.mechanism && a.arguments == b.arguments && a.toolArguments == b.toolArguments
            && a.environment.map { "\($0.0)=\($0.1)" } == b.environment.map { "\($0.0)=\($0.1)" }
    }

    /// The environment variable the stub (and any custom runtime that wants it) reads.
    public static let personaFileVariable = "MOSAIC_PERSONA_FILE"

    /// What `kind` is given so that it reads the persona in `file` (and, where it can, is
    /// limited to `tools`). `persona` is the text itself, for runtimes that take it inline.
    public static func of(_ kind: RuntimeKind, file: String, persona: String, tools: [String]? = nil) -> PersonaDelivery {
        Runtimes.of(kind).persona(file: file, text: persona, tools: tools ?? [])
    }

    /// A TOML basic string (double-quoted, escaped), as codex's `-c key=value` parses it.
    public static func tomlString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// The persona file of one agent: `<run>/<agent>.persona.md`, mode 0600, written when the agent
/// is launched so its runtime can read it.
public struct PersonaFile: Sendable, Equatable {
    public let runDirectory: String
    public let agent: String

    public init(runDirectory: String, agent: String) {
        self.runDirectory = runDirectory
        self.agent = agent
    }

    public var path: String { "\(runDirectory)/\(agent).persona.md" }

    /// The file's text: the persona as the role defines it, ending in one newline.
    public static func contents(of role: Role) -> String {
        role.persona.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
    }

    /// Writes the role's persona (only if it changed); returns the path.
    @discardableResult
    public func write(_ role: Role) throws -> String {
        try FileIO.makeDirectory(runDirectory, mode: 0o700)
        let text = Self.contents(of: role)
        if FileIO.readSmall(path, limit: 1 << 20) != text { try FileIO.writeAtomically(text, to: path, mode: 0o600) }
        return path
    }

    public func remove(host: any Host = LocalHost()) { host.removeFile(path) }

    /// Writes the persona file of every agent whose role the library knows; agents with a
    /// free-text role that names no role are left alone (the roster allows any text there).
    public static func writeAll(_ agents: [AgentSpec], library: RoleLibrary, runDirectory: String) throws {
        for agent in agents {
            guard let name = agent.role, let role = library.roles.first(where: { $0.name == name }) else { continue }
            try PersonaFile(runDirectory: runDirectory, agent: agent.name).write(role)
        }
    }
}

extension PersonaFile {
    /// The persona the stub was given: `MOSAIC_PERSONA_FILE` if set, else the agent's own
    /// persona file in the run directory, if one was written. `nil` when there is none.
    public static func forStub(environment: [String: String], runDirectory: String, agent: String) -> (path: String, text: String)? {
        let path = environment[PersonaDelivery.personaFileVariable].flatMap { $0.isEmpty ? nil : $0 }
            ?? PersonaFile(runDirectory: runDirectory, agent: agent).path
        guard let text = FileIO.readSmall(path, limit: 1 << 20) else { return nil }
        return (path, text)
    }

    /// The line the stub shows when it starts, so a person (and a test) can see it got its persona.
    public static func stubBanner(path: String, text: String) -> String {
        let first = text.split(separator: "\n").first.map { String($0.prefix(80)) } ?? ""
        return "persona: \(text.utf8.count) bytes from \(path): \(first)\n"
    }
}

extension PersonaFile {
    /// Before a launch: the persona files of `agents` whose role the library knows. A broken role
    /// file is reported (the returned text) rather than keeping the fleet from starting.
    public static func prepare(_ agents: [AgentSpec], context: FleetContext) -> String? {
        do {
            let library = try RoleLibrary.load(directory: RoleLibrary.directory(home: context.paths.home))
            try writeAll(agents, library: library, runDirectory: context.paths.runDirectory)
            return nil
        } catch {
            return "personas not written: \(error)"
        }
    }

    /// After `fleet down`: nothing of the stopped agents stays in the run directory.
    public static func removeAll(_ agents: [AgentSpec], runDirectory: String) {
        for agent in agents { PersonaFile(runDirectory: runDirectory, agent: agent.name).remove() }
    }
}
