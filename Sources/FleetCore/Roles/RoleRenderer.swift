import Foundation

/// `role ls` and `role show`: a table or text, and their JSON twins.
public enum RoleRenderer {
    public static func sourceText(_ source: Role.Source) -> String {
        switch source {
        case .builtin: return "built-in"
        case .user(let path, let overrides): return overrides ? "\(path) (overrides built-in)" : path
        }
    }

    public static func json(_ role: Role, includePersona: Bool) -> JSON {
        var fields: [(String, JSON)] = [
            ("name", .string(role.name)), ("summary", .string(role.summary)),
            ("runtime", .of(role.runtime?.rawValue)), ("model", .of(role.model)), ("effort", .of(role.effort)),
            ("restart", .string(role.restart.rawValue)), ("lifecycle", .string(role.lifecycle.rawValue)),
            ("tools", role.tools.map { .array($0.map(JSON.string)) } ?? .null),
        ]
        switch role.source {
        case .builtin: fields += [("source", .string("builtin")), ("path", .null), ("overridesBuiltin", .bool(false))]
        case .user(let path, let overrides): fields += [("source", .string("user")), ("path", .string(path)), ("overridesBuiltin", .bool(overrides))]
        }
        if includePersona { fields.append(("persona", .string(PersonaFile.contents(of: role)))) }
        return .object(fields)
    }

    public static func list(_ roles: [Role], json: Bool, width: Int?, color: Bool) -> String {
        if json { return JSON.array(roles.map { self.json($0, includePersona: false) }).rendered() + "\n" }
        let rows: [[Table.Cell]] = roles.map { role in
            [Table.Cell(role.name), Table.Cell(role.runtime?.rawValue ?? "-"), Table.Cell(role.lifecycle.rawValue),
             Table.Cell(role.restart.rawValue), Table.Cell(role.source == .builtin ? "built-in" : "user"), Table.Cell(role.summary)]
        }
        return Table(columns: [.init("ROLE"), .init("RUNTIME"), .init("LIFECYCLE"), .init("RESTART"), .init("SOURCE"),
                               .init("SUMMARY", shrinkable: true)], rows: rows).rendered(width: width, color: color)
    }

    public static func show(_ role: Role, json: Bool) -> String {
        if json { return self.json(role, includePersona: true).rendered() + "\n" }
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
