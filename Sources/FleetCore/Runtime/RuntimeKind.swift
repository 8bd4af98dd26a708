import Foundation

/// The runtimes a roster may name. What each runs as, and how it is launched, lives in its adapter.
public enum RuntimeKind: String, Sendable, Codable, CaseIterable {
    case claude, codex, pi, opencode, aider, stub, custom

    public static var allNames: String { allCases.map(\.rawValue).joined(separator: " | ") }
}

/// What the fleet knows about one runtime: how it is launched and what its pane may show.
public struct RuntimeAdapter: Sendable {
    public var kind: RuntimeKind
    /// Binary names looked up on the runtime PATH when the roster gives no `command`.
    public var binary: String?
    /// Process names (`/proc/<pid>/comm`, tmux `pane_current_command`) this runtime legitimately
    /// runs as. `nil`: the fleet cannot know (custom), so it never flags drift.
    public var expectedCommands: Set<String>?
    /// What to type to reset a conversation, if the runtime has such a command.
    public var resetCommand: String?

    public static func of(_ kind: RuntimeKind) -> RuntimeAdapter {
        switch kind {
        // Node-based CLIs show up as `node` (a `#!/usr/bin/env node` script execs node), some as their own name.
        case .claude: return .init(kind: kind, binary: "claude", expectedCommands: ["claude", "node"], resetCommand: "/clear")
        case .codex: return .init(kind: kind, binary: "codex", expectedCommands: ["codex", "node"], resetCommand: "/new")
        case .pi: return .init(kind: kind, binary: "pi", expectedCommands: ["pi", "node"], resetCommand: "/new")
        case .opencode: return .init(kind: kind, binary: "opencode", expectedCommands: ["opencode", "node", "bun"], resetCommand: "/new")
        case .aider: return .init(kind: kind, binary: "aider", expectedCommands: ["aider", "python", "python3"], resetCommand: "/clear")
        case .stub: return .init(kind: kind, binary: nil, expectedCommands: ["mosaic"], resetCommand: "/reset")
        case .custom: return .init(kind: kind, binary: nil, expectedCommands: nil, resetCommand: nil)
        }
    }

    /// True when `command` is something this runtime never runs as. Unknown input is never drift.
    public func isDrift(paneCommand command: String?) -> Bool? {
        guard let expected = expectedCommands, let command, !command.isEmpty else { return nil }
        if expected.contains(command) { return false }
        // python3.11 and friends
        if expected.contains("python"), command.hasPrefix("python") { return false }
        return true
    }
}
