import Foundation
import Yams

/// Reads user roles (`<home>/roles/NAME.yaml`): validated, unknown keys refused, errors with lines.
public struct RoleLoader: Sendable {
    public static let allowedKeys = ["summary", "persona", "runtime", "model", "effort", "restart", "lifecycle", "tools"]

    public init() {}

    /// Parses one role file. A file named like a built-in role overrides the fields it sets and
    /// keeps the rest of `base`; a new role must bring its own `persona`.
    public func parse(_ text: String, name: String, path: String, base: Role?) throws -> Role {
        guard AgentName.isValid(name) else {
            throw RoleError.invalid(path: path, line: nil,
                                    message: "the file name makes the role name \"\(name)\", which is not allowed; rename the file to match \(AgentName.patternDescription) plus .yaml")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text, Resolver.basic) else {
                throw RoleError.invalid(path: path, line: 1, message: "the role file is empty; add at least `persona: |` and the instructions below it")
            }
            root = node
        } catch let error as YamlError {
            guard case .invalid(let p, let line, _, let message) = RosterLoader.syntaxError(error, path: path) else {
                throw RoleError.invalid(path: path, line: nil, message: "\(error)")
            }
            throw RoleError.invalid(path: p, line: line, message: message)
        }
        func fail(_ node: Node?, _ message: String) -> RoleError { .invalid(path: path, line: node?.mark?.line, message: message) }
        guard let mapping = root.mapping else { throw fail(root, "a role file must be a mapping of `key: value` lines") }
        var fields: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard let k = key.scalar?.string else { throw fail(key, "the role has a key that is not text") }
            guard Self.allowedKeys.contains(k) else {
                throw fail(key, "unknown key \"\(k)\" in role \"\(name)\"; allowed keys: \(Self.allowedKeys.joined(separator: ", "))")
            }
            guard fields[k] == nil else { throw fail(key, "key \"\(k)\" appears twice in role \"\(name)\"; keep one") }
            fields[k] = (key, value)
        }
        func value(_ key: String) throws -> String? {
            guard let entry = fields[key] else { return nil }
            guard let scalar = entry.value.scalar else { throw fail(entry.value, "`\(key)` must be a single value, not a list or mapping") }
            if scalar.style == .plain, ["", "~", "null"].contains(scalar.string) { return nil }
            return scalar.string
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws -> T? where T.RawValue == String {
            guard let raw = try value(key) else { return nil }
            guard let value = T(rawValue: raw) else {
                throw fail(fields[key]?.value, "\(key) \"\(raw)\" is not known; use one of \(T.allCases.map(\.rawValue).joined(separator: " | "))")
            }
            return value
        }
        let persona = try value("persona")
        if let persona, persona.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw fail(fields["persona"]?.value, "`persona` of role \"\(name)\" is empty; write the instructions an agent of this role follows")
        }
        guard persona != nil || base != nil else {
            throw fail(root, "role \"\(name)\" has no `persona`; add `persona: |` followed by its instructions, indented")
        }
        var tools: [String]?
        if let entry = fields["tools"] {
            guard let list = entry.value.sequence else {
                throw fail(entry.value, "`tools` must be a list of tool names, such as [Read, Grep]")
            }
            tools = try list.map { item in
                guard let tool = item.scalar?.string, !tool.isEmpty else { throw fail(item, "each entry of `tools` must be a tool name") }
                return tool
            }
        }
        var role = base ?? Role(name: name, summary: "", persona: persona ?? "", restart: .onFailure, lifecycle: .core)
        role.source = .user(path: path, overrides: base != nil)
        if let persona { role.persona = persona }
        if let summary = try value("summary") { role.summary = summary }
        if let runtime = try choice("runtime", RuntimeKind.self) { role.runtime = runtime }
        if let model = try value("model") { role.model = model }
        if let effort = try value("effort") { role.effort = effort }
        if let restart = try choice("restart", Role.RestartPolicy.self) { role.restart = restart }
        if let lifecycle = try choice("lifecycle", Role.Lifecycle.self) { role.lifecycle = lifecycle }
        if let tools { role.tools = tools }
        return role
    }
}

/// The roles an agent can take: the built-in library, with the user's files added or overriding.
public struct RoleLibrary: Sendable {
    public let roles: [Role]
    /// Where the user's role files are (named in errors).
    public let directory: String

    public init(roles: [Role], directory: String = "<home>/roles") {
        self.roles = roles
        self.directory = directory
    }

    /// `<home>/roles`.
    public static func directory(home: String) -> String { "\(home)/roles" }

    /// The built-in roles and every `*.yaml` in `directory` (in name order); the first bad file is an error.
    public static func load(directory: String, builtin: [Role] = BuiltinRoles.all, host: any Host = LocalHost()) throws -> RoleLibrary {
        var byName = Dictionary(builtin.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var order = builtin.map(\.name)
        let files = (host.isDirectory(directory) ? try host.listDirectory(directory) : []).filter { $0.hasSuffix(".yaml") }.sorted()
        for file in files {
            let path = "\(directory)/\(file)"
            let name = String(file.dropLast(".yaml".count))
            guard let text = host.readFile(path, limit: 1 << 20) else {
                throw RoleError.invalid(path: path, line: nil, message: "cannot be read as UTF-8 text; fix its permissions or encoding")
            }
            let role = try RoleLoader().parse(text, name: name, path: path, base: byName[name])
            if byName[name] == nil { order.append(name) }
            byName[name] = role
        }
        return RoleLibrary(roles: order.compactMap { byName[$0] }, directory: directory)
    }

    public func role(named name: String) throws -> Role {
        guard AgentName.isValid(name) else { throw RoleError.invalidName(name) }
        guard let role = roles.first(where: { $0.name == name }) else { throw RoleError.unknown(name, known: roles.map(\.name), directory: directory) }
        return role
    }
}
