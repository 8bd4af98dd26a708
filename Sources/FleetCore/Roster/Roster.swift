import Foundation

/// The validated fleet definition: who runs, where, and how they are reached.
public struct Roster: Sendable, Equatable, Codable {
    public static let currentVersion = 1
    public static let defaultSocketName = "mosaic-factory"
    public static let defaultHolderSession = "_holder"
    public static let defaultHeartbeatInterval = 15
    public static let defaultSilentBusySeconds = 300

    public var version: Int
    public var tenant: String
    public var host: String
    public var socketName: String
    public var holderSession: String
    public var heartbeatIntervalSeconds: Int
    /// How long a runtime that animates while it works may report busy with its screen
    /// unchanged before `fleet ps` calls it silent (hung, or a report that went stale).
    public var silentBusySeconds: Int = Roster.defaultSilentBusySeconds
    /// Restart policy, backoff, crash loops, pacing and mass death (the `lifecycle:` block).
    public var lifecycle = Lifecycle()
    public var agents: [AgentSpec]

    public init(
        version: Int = Roster.currentVersion, tenant: String, host: String,
        socketName: String = Roster.defaultSocketName, holderSession: String = Roster.defaultHolderSession,
        heartbeatIntervalSeconds: Int = Roster.defaultHeartbeatInterval, agents: [AgentSpec]
    ) {
        self.version = version
        self.tenant = tenant
        self.host = host
        self.socketName = socketName
        self.holderSession = holderSession
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.agents = agents
    }

    public func agent(named name: String) -> AgentSpec? { agents.first { $0.name == name } }

    /// The agent's own restart policy, else the fleet's default.
    public func restartPolicy(of agent: AgentSpec) -> RestartPolicy { agent.restart ?? lifecycle.restart }

    /// The agent's own hang policy, else the fleet's default.
    public func hangPolicy(of agent: AgentSpec) -> HangPolicy { agent.onHang ?? lifecycle.onHang }

    /// The agents named, in roster order; every unknown name is reported at once.
    public func select(_ names: [String]) throws -> [AgentSpec] {
        if names.isEmpty { return agents }
        let unknown = names.filter { agent(named: $0) == nil }
        if !unknown.isEmpty {
            throw RosterError.unknownAgents(unknown, known: agents.map(\.name))
        }
        let wanted = Set(names)
        return agents.filter { wanted.contains($0.name) }
    }
}

/// One agent as the roster defines it.
public struct AgentSpec: Sendable, Equatable, Codable {
    public var name: String
    public var runtime: RuntimeKind
    public var command: String?
    public var workdir: String?
    public var role: String?
    public var env: [String: String]
    public var model: String?
    public var effort: String?
    /// nil: the fleet's `lifecycle.restart`.
    public var restart: RestartPolicy?
    /// nil: the fleet's `lifecycle.onHang`.
    public var onHang: HangPolicy?

    public init(
        name: String, runtime: RuntimeKind, command: String? = nil, workdir: String? = nil,
        role: String? = nil, env: [String: String] = [:], model: String? = nil, effort: String? = nil,
        restart: RestartPolicy? = nil, onHang: HangPolicy? = nil
    ) {
        self.name = name
        self.runtime = runtime
        self.command = command
        self.workdir = workdir
        self.role = role
        self.env = env
        self.model = model
        self.effort = effort
        self.restart = restart
        self.onHang = onHang
    }
}

/// The strict name rule that keeps agent names safe as tmux targets, unit names, file names.
public enum AgentName {
    public static let patternDescription = "^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"

    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
        }
        return alnum(first) && name.utf8.allSatisfy { alnum($0) || $0 == 45 || $0 == 95 }
    }

    /// Throws a usage-grade error naming the bad value, for names typed on a command line.
    public static func validate(_ name: String) throws {
        guard isValid(name) else { throw RosterError.invalidAgentName(name) }
    }
}
