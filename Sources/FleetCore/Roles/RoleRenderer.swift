import Foundation

/// `role ls` and `role show`: a table or text, and their JSON twins.
public enum RoleRenderer {
    public static func sourceText(_ source: Role.Source) -> String {
        switch source {
        case .builtin: return "built-in"
        case .user(let path, let overrides): return overrides ? "\(path) (overrides built-in)" : path
        }
    }

    public static func document(_ role: Role, includePersona: Bool) -> RoleDocument {
        var path: String?, overrides = false
        if case .user(let p, let o) = role.source { path = p; overrides = o }
        return RoleDocument(name: role.name, summary: role.summary, runtime: role.runtime?.rawValue, model: role.model,
                            effort: role.effort, restart: role.restart.rawValue, lifecycle: role.lifecycle.rawValue,
                            tools: role.tools, source: path == nil ? "builtin" : "user", path: path, overridesBuiltin: overrides,
                            persona: includePersona ? PersonaFile.contents(of: role) : nil)
    }

    static func rendered<T: Encodable>(_ value: T) -> String { ((try? OrderedJSONEncoder().render(value)) ?? "null") + "\n" }

    public static func list(_ roles: [Role], json: Bool, width: Int?, color: Bool) -> String {
        if json { return rendered(roles.map { document($0, includePersona: false) }) }
        let rows: [[Table.Cell]] = roles.map { role in
            [Table.Cell(role.name), Table.Cell(role.runtime?.rawValue ?? "-"), Table.Cell(role.lifecycle.rawValue),
             Table.Cell(role.restart.rawValue), Table.Cell(role.source == .builtin ? "built-in" : "user"), Table.Cell(role.summary)]
        }
        return Table(columns: [.init("ROLE"), .init("RUNTIME"), .init("LIFECYCLE"), .init("RESTART"), .init("SOURCE"),
                               .init("SUMMARY", shrinkable: true)], rows: rows).rendered(width: width, color: color)
    }

    public static func show(_ role: Role, json: Bool) -> String {
        if json { return rendered(document(role, includePersona: true)) }
        var out = "role \(role.name): \(role.summary)\n"
        out += "  runtime    \(role.runtime?.rawValue ?? "(none: pass --runtime)")\n"
        out += "  model      \(role.model ?? "(runtime default)")\n"
        out += "  effort     \(role.effort ?? "(runtime default)")\n"
        out += "  restart    \(role.restart.rawValue)\n"
        out += "  lifecycle  \(role.lifecycle.rawValue)\n"
        out += "  tools      \(role.tools.map { $0.joined(separator: ", ") } ?? "(runtime default)")\n"
        out += "  source     \(sourceText(role.source))\n\n"
        return out + PersonaFile.contents(of: role)
    }
}

/// `role ls --json` (one per role, without `persona`) and `role show --json` (with it).
public struct RoleDocument: Codable, Equatable, Sendable {
    public var name: String
    public var summary: String
    public var runtime: String?
    public var model: String?
    public var effort: String?
    public var restart: String
    public var lifecycle: String
    public var tools: [String]?
    public var source: String
    public var path: String?
    public var overridesBuiltin: Bool
    /// Only in `role show`: absent (not null) from the list.
    public var persona: String?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(summary, forKey: .summary)
        try c.encode(runtime, forKey: .runtime)
        try c.encode(model, forKey: .model)
        try c.encode(effort, forKey: .effort)
        try c.encode(restart, forKey: .restart)
        try c.encode(lifecycle, forKey: .lifecycle)
        try c.encode(tools, forKey: .tools)
        try c.encode(source, forKey: .source)
        try c.encode(path, forKey: .path)
        try c.encode(overridesBuiltin, forKey: .overridesBuiltin)
        try c.encodeIfPresent(persona, forKey: .persona)
    }
}
