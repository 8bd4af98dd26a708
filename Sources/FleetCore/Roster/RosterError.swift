import Foundation

/// Everything that can be wrong with a roster; each message names the place and the fix.
public enum RosterError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case invalid(path: String, line: Int?, column: Int?, message: String)
    case unknownAgents([String], known: [String])
    case invalidAgentName(String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no roster at \(path); run `mosaic fleet init` to write a starter roster, or pass --home"
        case .unreadable(let path, let reason):
            return "cannot read roster \(path): \(reason)"
        case .invalid(let path, let line, let column, let message):
            var place = path
            if let line { place += ":\(line)" }
            if let column { place += ":\(column)" }
            return "\(place): \(message)"
        case .unknownAgents(let names, let known):
            let list = names.map { "\"\($0)\"" }.joined(separator: ", ")
            let knownList = known.isEmpty ? "the roster has no agents" : "the roster has: \(known.joined(separator: ", "))"
            return "no agent named \(list) in the roster; \(knownList)"
        case .invalidAgentName(let name):
            return "\"\(name.debugDescription.dropFirst().dropLast())\" is not a valid agent name: use letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters (\(AgentName.patternDescription))"
        }
    }
}
