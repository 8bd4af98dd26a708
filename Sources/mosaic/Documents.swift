import FleetCore
import Foundation

// The `--json` documents of the verbs, one Codable type each. Every `encode(to:)` writes its keys
// in the printed order and every optional with `encode`, so a missing value is an explicit null
// (`OrderedJSONEncoder` keeps the order; see `FleetDocument` for `fleet ps`).

/// `fleet up`, `fleet down`, `fleet restart --json`: one object per agent.
struct OutcomeEntry: Codable, Equatable {
    var name: String
    var tenant_id: String
    var host: String
    var action: AgentOutcome.Action
    var via: String
    var detail: String?

    init(_ o: AgentOutcome) {
        (name, tenant_id, host, action, via, detail) = (o.name, o.tenant_id, o.host, o.action, o.via, o.detail)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(tenant_id, forKey: .tenant_id)
        try c.encode(host, forKey: .host)
        try c.encode(action, forKey: .action)
        try c.encode(via, forKey: .via)
        try c.encode(detail, forKey: .detail)
    }
}

/// `fleet init --json`.
struct InitResult: Codable, Equatable {
    var tenant_id: String
    var host: String
    var home: String
    var roster: String
    var rosterWritten: Bool
    var systemd: Bool
    var unitsWritten: [String]
    var unitsEnabled: [String]
    /// `nil` without systemd: linger means nothing then.
    var linger: Bool?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tenant_id, forKey: .tenant_id)
        try c.encode(host, forKey: .host)
        try c.encode(home, forKey: .home)
        try c.encode(roster, forKey: .roster)
        try c.encode(rosterWritten, forKey: .rosterWritten)
        try c.encode(systemd, forKey: .systemd)
        try c.encode(unitsWritten, forKey: .unitsWritten)
        try c.encode(unitsEnabled, forKey: .unitsEnabled)
        try c.encode(linger, forKey: .linger)
    }
}

/// `agent roster --json`: one object per agent; `env` with its keys sorted.
struct RosterEntry: Codable, Equatable {
    var name: String
    var tenant_id: String
    var host: String
    var runtime: RuntimeKind
    var role: String?
    var command: String?
    var workdir: String?
    var model: String?
    var effort: String?
    var env: [String: String]

    init(_ a: AgentSpec, in roster: Roster) {
        (name, tenant_id, host, runtime) = (a.name, roster.tenant, roster.host, a.runtime)
        (role, command, workdir, model, effort, env) = (a.role, a.command, a.workdir, a.model, a.effort, a.env)
    }

    private struct EnvKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(tenant_id, forKey: .tenant_id)
        try c.encode(host, forKey: .host)
        try c.encode(runtime, forKey: .runtime)
        try c.encode(role, forKey: .role)
        try c.encode(command, forKey: .command)
        try c.encode(workdir, forKey: .workdir)
        try c.encode(model, forKey: .model)
        try c.encode(effort, forKey: .effort)
        var environment = c.nestedContainer(keyedBy: EnvKey.self, forKey: .env)
        for (key, value) in env.sorted(by: { $0.key < $1.key }) { try environment.encode(value, forKey: EnvKey(stringValue: key)) }
    }
}

/// `fleet verify --json`: one object per check.
struct CheckEntry: Codable, Equatable {
    var check: String
    var level: String
    var detail: String
    var fix: String?

    init(_ c: VerifyCheck) { (check, level, detail, fix) = (c.name, c.level.rawValue, c.detail, c.fix) }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(check, forKey: .check)
        try c.encode(level, forKey: .level)
        try c.encode(detail, forKey: .detail)
        try c.encode(fix, forKey: .fix)
    }
}
