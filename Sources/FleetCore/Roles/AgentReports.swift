import Foundation

/// What `agent new` did, as text or JSON.
public struct AgentNewReport: Sendable {
    public var spec: AgentSpec
    public var roster: String
    public var via: String
    public var enabled = false
    public var outcome: AgentOutcome?
    public var health: HealthWait.Outcome?

    public init(spec: AgentSpec, roster: String, via: String) {
        self.spec = spec
        self.roster = roster
        self.via = via
    }

    public func rendered(json: Bool) -> String {
        var healthy: Bool?
        var healthyAfterMs: Int?
        var reason: String?
        switch health {
        case .healthy(let ms)?: healthy = true; healthyAfterMs = ms
        case .notHealthy(let why)?: healthy = false; reason = why
        case nil: break
        }
        if json {
            return JSON.object([
                ("name", .string(spec.name)), ("role", .of(spec.role)), ("runtime", .string(spec.runtime.rawValue)),
                ("model", .of(spec.model)), ("effort", .of(spec.effort)), ("workdir", .of(spec.workdir)),
                ("roster", .string(roster)), ("via", .string(via)), ("unitEnabled", .bool(enabled)),
                ("started", .bool(outcome.map { [.started, .restarted, .alreadyRunning].contains($0.action) } ?? false)),
                ("action", .of(outcome?.action.rawValue)), ("healthy", .of(healthy)), ("healthyAfterMs", .of(healthyAfterMs)),
                ("reason", .of(reason ?? outcome?.detail)),
            ]).rendered() + "\n"
        }
        var line = "agent \(spec.name) added to \(roster) · role \(spec.role ?? "-") · runtime \(spec.runtime.rawValue)"
        if let model = spec.model { line += " · model \(model)" }
        if let effort = spec.effort { line += " · effort \(effort)" }
        if enabled { line += " · unit enabled" }
        if let outcome { line += " · \(outcome.action.rawValue) via \(outcome.via)" } else { line += " · not started" }
        if let healthyAfterMs { line += " · healthy after \(healthyAfterMs) ms" }
        if let reason { line += " · not healthy: \(reason)" }
        return line + "\n"
    }
}

/// What `agent rm` did, as text or JSON.
public struct AgentRemoveReport: Sendable {
    public var name: String
    public var tenant: String
    public var host: String
    public var roster: String
    public var action: AgentOutcome.Action

    public init(name: String, tenant: String, host: String, roster: String, action: AgentOutcome.Action) {
        self.name = name
        self.tenant = tenant
        self.host = host
        self.roster = roster
        self.action = action
    }

    public func rendered(json: Bool) -> String {
        if json {
            return JSON.object([("name", .string(name)), ("tenant_id", .string(tenant)), ("host", .string(host)),
                                ("action", .string(action.rawValue)), ("roster", .string(roster)), ("removed", .bool(true))]).rendered() + "\n"
        }
        return "agent \(name) removed from \(roster) (\(action.rawValue))\n"
    }
}
