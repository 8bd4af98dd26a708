import Foundation
import Yams

/// Parses and validates roster YAML, reporting the first problem with its line and the fix.
public struct RosterLoader: Sendable {
    /// Values the roster may leave out.
    public struct Defaults: Sendable {
        public var tenant: String
        public var host: String
        public init(tenant: String, host: String) {
            self.tenant = tenant
            self.host = host
        }
    }

    public var defaults: Defaults
    public var host: any Host

    public init(defaults: Defaults, host: any Host = LocalHost()) {
        self.defaults = defaults
        self.host = host
    }

    public func load(path: String) throws -> Roster {
        try parse(try read(path: path), path: path)
    }

    /// The roster file's text, or the error that says why it cannot be had.
    public func read(path: String) throws -> String {
        guard let status = host.status(path) else { throw RosterError.missing(path: path) }
        guard status.kind == .file, let data = try? host.readBytes(path, from: 0, limit: Int(status.size) + 1) else {
            throw RosterError.unreadable(path: path, reason: "permission denied or not a regular file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RosterError.unreadable(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    public func parse(_ text: String, path: String = "roster.yaml") throws -> Roster {
        let root: Node
        do {
            // The basic resolver: the validator reads scalars as text and never asks for a tag, and
            // the default one compiles seven regular expressions (ICU) on every run.
            guard let node = try Yams.compose(yaml: text, Resolver.basic) else {
                throw RosterError.invalid(path: path, line: 1, column: nil,
                                          message: "the roster is empty; it needs at least `version: 1` and `agents:`")
            }
            root = node
        } catch let error as YamlError {
            throw Self.syntaxError(error, path: path)
        }
        return try Validator(path: path, defaults: defaults).roster(root)
    }

    static func syntaxError(_ error: YamlError, path: String) -> RosterError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            // A broken flow construct or quoted scalar (an unclosed `[`, `{` or quote) starts where
            // libyaml's context mark points; where it gave up is often lines later. The error
            // names the start, where the fix usually is, and says where the parser stopped. A
            // block context is the whole enclosing list or mapping: there the line it gave up on
            // is the one to fix.
            guard let context, !context.text.isEmpty, !context.text.contains("block"), context.mark.line < mark.line else {
                let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
                return .invalid(path: path, line: mark.line, column: mark.column,
                                message: "YAML syntax error: \(detail); fix the YAML at this line")
            }
            return .invalid(path: path, line: context.mark.line, column: context.mark.column,
                            message: "YAML syntax error: \(context.text) that starts here, \(problem) at line \(mark.line), "
                                + "column \(mark.column) (where the parser gave up); fix the YAML from this line on")
        case .reader(let problem, let offset, _, let yaml):
            // libyaml counts the offset in bytes of the UTF-8 text.
            let place = offset.map { offset -> (line: Int, column: Int) in
                let before = yaml.utf8.prefix(max(0, offset))
                let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
                let column = before.reversed().prefix { $0 != 0x0A }.count + 1
                return (line, column)
            }
            return .invalid(path: path, line: place?.line, column: place?.column, message: "YAML could not be read: \(problem)")
        default:
            return .invalid(path: path, line: nil, column: nil, message: "YAML error: \(error)")
        }
    }
}

/// Walks the composed YAML tree; every error carries the node's line.
private struct Validator {
    let path: String
    let defaults: RosterLoader.Defaults

    func fail(_ node: Node?, _ message: String) -> RosterError {
        .invalid(path: path, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    /// The mapping's entries by key, refusing unknown and repeated keys.
    func entries(_ node: Node, allowed: [String], context: String) throws -> [String: (key: Node, value: Node)] {
        guard let mapping = node.mapping else {
            throw fail(node, "\(context) must be a mapping of `key: value` lines")
        }
        var result: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else { throw fail(key, "\(context) has a key that is not text") }
            guard allowed.contains(name) else {
                throw fail(key, "unknown key \"\(name)\" in \(context); allowed keys: \(allowed.joined(separator: ", "))")
            }
            guard result[name] == nil else { throw fail(key, "key \"\(name)\" appears twice in \(context); keep one") }
            result[name] = (key, value)
        }
        return result
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard let scalar = node.scalar else { throw fail(node, "\(what) must be a single value, not a list or mapping") }
        return scalar.string
    }

    func optionalString(_ entry: (key: Node, value: Node)?, _ what: String) throws -> String? {
        guard let entry else { return nil }
        if entry.value.scalar.map({ $0.string.isEmpty || $0.string == "~" || $0.string == "null" }) == true,
           entry.value.scalar?.style == .plain { return nil }
        let value = try string(entry.value, what)
        return value
    }

    func roster(_ root: Node) throws -> Roster {
        let top = try entries(root, allowed: ["version", "tenant", "host", "tmux", "heartbeat", "lifecycle", "agents"], context: "the roster")
        guard let versionEntry = top["version"] else {
            throw fail(root, "the roster has no `version`; add `version: 1` as its first line")
        }
        guard let version = Int(try string(versionEntry.value, "version")), version == Roster.currentVersion else {
            throw fail(versionEntry.value, "unsupported roster version \"\(versionEntry.value.scalar?.string ?? "?")\"; this mosaic reads `version: 1`")
        }
        var roster = Roster(tenant: defaults.tenant, host: defaults.host, agents: [])
        roster.version = version
        if let tenant = try optionalString(top["tenant"], "tenant") {
            guard AgentName.isValid(tenant) else {
                throw fail(top["tenant"]?.value, "tenant \"\(tenant)\" must use letters, digits, '-' and '_' only")
            }
            roster.tenant = tenant
        }
        if let host = try optionalString(top["host"], "host") {
            guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw fail(top["host"]?.value, "host \"\(host)\" must be a host name (letters, digits, '-', '_', '.')")
            }
            roster.host = host
        }
        if let tmux = top["tmux"] {
            let section = try entries(tmux.value, allowed: ["socketName", "holderSession"], context: "`tmux`")
            if let socket = try optionalString(section["socketName"], "tmux.socketName") {
                guard AgentName.isValid(socket), socket != "default" else {
                    throw fail(section["socketName"]?.value, "tmux.socketName \"\(socket)\" must match \(AgentName.patternDescription) and must not be \"default\" (the user's own tmux server)")
                }
                roster.socketName = socket
            }
            if let holder = try optionalString(section["holderSession"], "tmux.holderSession") {
                guard AgentName.isValid(holder) || (holder.first == "_" && AgentName.isValid(String(holder.dropFirst()))) else {
                    throw fail(section["holderSession"]?.value, "tmux.holderSession \"\(holder)\" must be letters, digits, '-' and '_'")
                }
                roster.holderSession = holder
            }
        }
        if let heartbeat = top["heartbeat"] {
            let section = try entries(heartbeat.value, allowed: ["intervalSeconds", "silentBusySeconds"], context: "`heartbeat`")
            if let entry = section["intervalSeconds"] {
                guard let seconds = Int(try string(entry.value, "heartbeat.intervalSeconds")), (1...3600).contains(seconds) else {
                    throw fail(entry.value, "heartbeat.intervalSeconds must be a whole number of seconds from 1 to 3600")
                }
                roster.heartbeatIntervalSeconds = seconds
            }
            if let entry = section["silentBusySeconds"] {
                guard let seconds = Int(try string(entry.value, "heartbeat.silentBusySeconds")), (1...86400).contains(seconds) else {
                    throw fail(entry.value, "heartbeat.silentBusySeconds must be a whole number of seconds from 1 to 86400")
                }
                roster.silentBusySeconds = seconds
            }
        }
        if let lifecycle = top["lifecycle"] { roster.lifecycle = try self.lifecycle(lifecycle.value) }
        guard let agentsEntry = top["agents"] else {
            throw fail(root, "the roster has no `agents:` list; add at least one agent (see `mosaic agent roster --help`)")
        }
        if agentsEntry.value.scalar.map({ $0.string.isEmpty }) == true { return roster }
        guard let list = agentsEntry.value.sequence else {
            throw fail(agentsEntry.value, "`agents` must be a list of agents, each starting with `- name:`")
        }
        var seen: [String: Int] = [:]
        for item in list {
            let spec = try agent(item)
            if let first = seen[spec.name] {
                throw fail(item, "agent name \"\(spec.name)\" is used twice (first at line \(first)); names must be unique")
            }
            seen[spec.name] = item.mark?.line ?? 0
            if spec.name == roster.holderSession {
                throw fail(item, "agent name \"\(spec.name)\" is the holder session's name; rename the agent")
            }
            roster.agents.append(spec)
        }
        return roster
    }

    func agent(_ node: Node) throws -> AgentSpec {
        let fields = try entries(node, allowed: ["name", "runtime", "command", "workdir", "role", "env", "model", "effort", "restart", "onHang"],
                                 context: "an agent")
        guard let nameEntry = fields["name"] else { throw fail(node, "an agent has no `name`; add `name: <agent-name>`") }
        let name = try string(nameEntry.value, "name")
        guard AgentName.isValid(name) else {
            throw fail(nameEntry.value, "agent name \"\(name)\" is not allowed: use \(AgentName.patternDescription) (letters, digits, '-', '_'; at most 63)")
        }
        guard let runtimeEntry = fields["runtime"] else {
            throw fail(node, "agent \"\(name)\" has no runtime; add \"runtime: stub\" (one of \(RuntimeKind.allNames))")
        }
        let runtimeName = try string(runtimeEntry.value, "runtime")
        guard let runtime = RuntimeKind(rawValue: runtimeName) else {
            throw fail(runtimeEntry.value, "agent \"\(name)\" has unknown runtime \"\(runtimeName)\"; use one of \(RuntimeKind.allNames)")
        }
        let command = try optionalString(fields["command"], "command")
        if Runtimes.of(runtime).needsCommand, command?.isEmpty ?? true {
            throw fail(node, "agent \"\(name)\" has runtime \(runtime.rawValue) but no `command`; add `command: \"<program> <args>\"`")
        }
        var env: [String: String] = [:]
        if let envEntry = fields["env"] {
            guard let mapping = envEntry.value.mapping else {
                throw fail(envEntry.value, "`env` of agent \"\(name)\" must be a mapping such as {KEY: value}")
            }
            for (key, value) in mapping {
                let k = try string(key, "env key")
                guard Self.isEnvName(k) else {
                    throw fail(key, "env key \"\(k)\" of agent \"\(name)\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)")
                }
                guard !k.hasPrefix("MOSAIC_") || k == "MOSAIC_RUNTIME_BIN" else {
                    throw fail(key, "env key \"\(k)\" is reserved: mosaic sets MOSAIC_* variables itself")
                }
                guard env[k] == nil else { throw fail(key, "env key \"\(k)\" appears twice") }
                env[k] = try string(value, "env value")
            }
        }
        return AgentSpec(
            name: name, runtime: runtime, command: command,
            workdir: try optionalString(fields["workdir"], "workdir"),
            role: try optionalString(fields["role"], "role"), env: env,
            model: try optionalString(fields["model"], "model"),
            effort: try optionalString(fields["effort"], "effort"),
            restart: try fields["restart"].map { try restartPolicy($0.value, "restart of agent \"\(name)\"") },
            onHang: try fields["onHang"].map { try hangPolicy($0.value, "onHang of agent \"\(name)\"") })
    }

    func restartPolicy(_ node: Node, _ what: String) throws -> RestartPolicy {
        let text = try string(node, what)
        guard let policy = RestartPolicy(rawValue: text) else {
            throw fail(node, "\(what) is \"\(text)\", not a restart policy; use one of \(RestartPolicy.allNames)")
        }
        return policy
    }

    func hangPolicy(_ node: Node, _ what: String) throws -> HangPolicy {
        let text = try string(node, what)
        guard let policy = HangPolicy(rawValue: text) else {
            throw fail(node, "\(what) is \"\(text)\", not a hang policy; use one of \(HangPolicy.allNames)")
        }
        return policy
    }

    func duration(_ node: Node, _ what: String, atLeast minimum: Duration = .milliseconds(1)) throws -> Duration {
        let text = try string(node, what)
        guard let value = DurationText.parse(text) else {
            throw fail(node, "\(what) is \"\(text)\", not a duration; write \(DurationText.formatDescription)")
        }
        guard value >= minimum else {
            throw fail(node, "\(what) is \(text); it must be at least \(DurationText.format(minimum))")
        }
        return value
    }

    func integer(_ node: Node, _ what: String, _ range: ClosedRange<Int>) throws -> Int {
        let text = try string(node, what)
        guard let value = Int(text), range.contains(value) else {
            throw fail(node, "\(what) is \"\(text)\"; it must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func lifecycle(_ node: Node) throws -> Lifecycle {
        let fields = try entries(node, allowed: ["restart", "onHang", "backoff", "resetAfter", "crashLoop",
                                                 "maxConcurrentStarts", "massDeath"], context: "`lifecycle`")
        var result = Lifecycle()
        if let entry = fields["restart"] { result.restart = try restartPolicy(entry.value, "lifecycle.restart") }
        if let entry = fields["onHang"] { result.onHang = try hangPolicy(entry.value, "lifecycle.onHang") }
        if let entry = fields["backoff"] {
            let backoff = try entries(entry.value, allowed: ["initial", "max"], context: "`lifecycle.backoff`")
            if let e = backoff["initial"] { result.backoff.initial = try duration(e.value, "lifecycle.backoff.initial") }
            if let e = backoff["max"] { result.backoff.max = try duration(e.value, "lifecycle.backoff.max") }
            if result.backoff.max < result.backoff.initial {
                throw fail(backoff["max"]?.value ?? backoff["initial"]?.value,
                           "lifecycle.backoff.max (\(DurationText.format(result.backoff.max))) is shorter than backoff.initial (\(DurationText.format(result.backoff.initial))); make max at least initial")
            }
        }
        if let entry = fields["resetAfter"] { result.resetAfter = try duration(entry.value, "lifecycle.resetAfter") }
        if let entry = fields["crashLoop"] {
            let loop = try entries(entry.value, allowed: ["restarts", "window"], context: "`lifecycle.crashLoop`")
            if let e = loop["restarts"] { result.crashLoop.restarts = try integer(e.value, "lifecycle.crashLoop.restarts", 1...1000) }
            if let e = loop["window"] { result.crashLoop.window = try duration(e.value, "lifecycle.crashLoop.window", atLeast: .seconds(1)) }
        }
        if let entry = fields["maxConcurrentStarts"] {
            result.maxConcurrentStarts = try integer(entry.value, "lifecycle.maxConcurrentStarts", 1...1000)
        }
        if let entry = fields["massDeath"] {
            let mass = try entries(entry.value, allowed: ["fraction", "minAgents", "window"], context: "`lifecycle.massDeath`")
            if let e = mass["fraction"] {
                let text = try string(e.value, "lifecycle.massDeath.fraction")
                guard let fraction = Double(text), fraction > 0, fraction <= 1 else {
                    throw fail(e.value, "lifecycle.massDeath.fraction is \"\(text)\"; it must be a number above 0 and at most 1 (such as 0.5)")
                }
                result.massDeath.fraction = fraction
            }
            if let e = mass["minAgents"] { result.massDeath.minAgents = try integer(e.value, "lifecycle.massDeath.minAgents", 1...100_000) }
            if let e = mass["window"] { result.massDeath.window = try duration(e.value, "lifecycle.massDeath.window") }
        }
        return result
    }

    static func isEnvName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.letters.contains(first)) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
    }
}
