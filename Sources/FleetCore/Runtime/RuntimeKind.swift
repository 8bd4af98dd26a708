import Foundation

/// The runtimes a roster may name. Everything about each (its launch, process names, input line,
/// hooks and files) lives in its type, found with `Runtimes.of(kind)`.
public enum RuntimeKind: String, Sendable, Codable, CaseIterable {
    case claude, codex, pi, opencode, aider, stub, custom

    public static var allNames: String { allCases.map(\.rawValue).joined(separator: " | ") }
}
