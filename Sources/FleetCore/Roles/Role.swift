import Foundation

/// What an agent of a role is told to be (its persona) and how it runs by default.
public struct Role: Sendable, Equatable, Codable {
    /// When a stopped runtime is started again.
    public enum RestartPolicy: String, Sendable, Codable, CaseIterable {
        case always, onFailure = "on-failure", never
    }

    /// `core` agents are always on; `ephemeral` ones take one task and stop.
    public enum Lifecycle: String, Sendable, Codable, CaseIterable {
        case core, ephemeral
    }

    /// Where the role was defined.
    public enum Source: Sendable, Equatable, Codable {
        case builtin
        /// A file in `<home>/roles/`; `overrides` when it replaces fields of a built-in role.
        case user(path: String, overrides: Bool)
    }

    public var name: String
    public var summary: String
    public var persona: String
    public var runtime: RuntimeKind?
    public var model: String?
    public var effort: String?
    public var restart: RestartPolicy
    public var lifecycle: Lifecycle
    /// Tools the runtime may use, where it can restrict them (`nil`: the runtime's own default).
    public var tools: [String]?
    public var source: Source

    public init(name: String, summary: String, persona: String, runtime: RuntimeKind? = nil, model: String? = nil,
                effort: String? = nil, restart: RestartPolicy, lifecycle: Lifecycle, tools: [String]? = nil,
                source: Source = .builtin) {
        self.name = name
        self.summary = summary
        self.persona = persona
        self.runtime = runtime
        self.model = model
        self.effort = effort
        self.restart = restart
        self.lifecycle = lifecycle
        self.tools = tools
        self.source = source
    }
}

/// Everything that can be wrong with a role or a role file; each message names the place and the fix.
public enum RoleError: Error, Equatable, CustomStringConvertible {
    case unknown(String, known: [String], directory: String)
    case invalidName(String)
    case invalid(path: String, line: Int?, message: String)

    public var description: String {
        switch self {
        case .unknown(let name, let known, let directory):
            return "no role named \"\(name)\"; known roles: \(known.joined(separator: ", ")) (or add one as \(directory)/\(name).yaml)"
        case .invalidName(let name):
            return "\"\(name)\" is not a valid role name: use letters, digits, '-' and '_', starting with a letter or digit (\(AgentName.patternDescription))"
        case .invalid(let path, let line, let message):
            return (line.map { "\(path):\($0)" } ?? path) + ": " + message
        }
    }
}
