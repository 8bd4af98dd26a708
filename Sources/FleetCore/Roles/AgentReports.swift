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
            let started = outcome.map { [.started, .restarted, .alreadyRunning].contains($0.action) } ?? false
            let document = AgentNewDocument(
                name: spec.name, role: spec.role, runtime: spec.runtime.rawValue, model: spec.model, effort: spec.effort,
                workdir: spec.workdir, roster: roster, via: via, unitEnabled: enabled, started: started,
                action: outcome?.action, healthy: healthy, healthyAfterMs: healthyAfterMs, reason: reason ?? outcome?.detail)
            return ((try? OrderedJSONEncoder().render(document)) ?? "null") + "\n"
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
            let document = AgentRemoveDocument(name: name, tenant_id: tenant, host: host, action: action, roster: roster, removed: true)
            return ((try? OrderedJSONEncoder().render(document)) ?? "null") + "\n"
        }
        return "agent \(name) removed from \(roster) (\(action.rawValue))\n"
    }
}

/// `agent new --json`: keys in this order, a missing value an explicit null.
public struct AgentNewDocument: Codable, Equatable, Sendable {
    public var name: String
    public var role: String?
    public var runtime: String
    public var model: String?
    public var effort: String?
    public var workdir: String?
    public var roster: String
    public var via: String
    public var unitEnabled: Bool
    public var started: Bool
    public var action: AgentOutcome.Action?
    public var healthy: Bool?
    public var healthyAfterMs: Int?
    public var reason: String?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(role, forKey: .role)
        try c.encode(runtime, forKey: .runtime)
        try c.encode(model, forKey: .model)
        try c.encode(effort, forKey: .effort)
        try c.encode(workdir, forKey: .workdir)
        try c.encode(roster, forKey: .roster)
        try c.encode(via, forKey: .via)
        try c.encode(unitEnabled, forKey: .unitEnabled)
        try c.encode(started, forKey: .started)
        try c.encode(action, forKey: .action)
        try c.encode(healthy, forKey: .healthy)
        try c.encode(healthyAfterMs, forKey: .healthyAfterMs)
        try c.encode(reason, forKey: .reason)
    }
}

/// `agent rm --json`.
public struct AgentRemoveDocument: Codable, Equatable, Sendable {
    public var name: String
    public var tenant_id: String
    public var host: String
    public var action: AgentOutcome.Action
    public var roster: String
    public var removed: Bool

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(tenant_id, forKey: .tenant_id)
        try c.encode(host, forKey: .host)
        try c.encode(action, forKey: .action)
        try c.encode(roster, forKey: .roster)
        try c.encode(removed, forKey: .removed)
    }
}
