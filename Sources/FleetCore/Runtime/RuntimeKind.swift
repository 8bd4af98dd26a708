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
    /// It writes `ack=<id>` into its heartbeat when it takes a framed message (`send --verify`).
    public var acknowledgesMessages = false
    /// Its reset command goes with the `[mosaic msg=…]` frame (so it can be acknowledged too).
    public var framesReset = false
    /// Its own interface runs on the alternate screen; for others a full-screen program in the
    /// pane (an editor, a pager) means the runtime is not at its prompt.
    public var usesAlternateScreen = false
    /// Its screen keeps changing while it works (a spinner, a timer), so a busy report with a
    /// still screen means it hangs or the report is stale. Measured for Claude Code, Codex and pi
    /// (window activity never older than a second over an 8 s turn); not aider, which shows
    /// nothing while it waits for the model.
    public var animatesWhileBusy = false

    public static func of(_ kind: RuntimeKind) -> RuntimeAdapter {
        switch kind {
        // Node-based CLIs show up as `node` (a `#!/usr/bin/env node` script execs node), some as their own name.
        // Claude Code's UserPromptSubmit hook acknowledges the message id (see ClaudeIntegration).
        // The binary is a single executable (comm "claude"); an npm install runs as node.
        // Since 2.1 its interface is on the alternate screen (measured: alternate_on 1).
        case .claude: return .init(kind: kind, binary: "claude", expectedCommands: ["claude", "node"], resetCommand: "/clear",
                                   acknowledgesMessages: true, usesAlternateScreen: true, animatesWhileBusy: true)
        // Codex's TUI runs on the alternate screen (measured, 0.163); the native binary's comm and
        // pane command are `codex`, npm's launcher is `node`.
        case .codex: return .init(kind: kind, binary: "codex", expectedCommands: ["codex", "node"], resetCommand: "/new",
                                  usesAlternateScreen: true, animatesWhileBusy: true)
        // pi sets process.title to "pi" (measured: comm and pane_current_command `pi`, the
        // executable node); `node` while it starts. Its extension's `input` event acknowledges the
        // message id (see PiIntegration). Since 1.0 it runs fullscreen (measured: alternate_on 1).
        case .pi: return .init(kind: kind, binary: "pi", expectedCommands: ["pi", "node"], resetCommand: "/new",
                               acknowledgesMessages: true, usesAlternateScreen: true, animatesWhileBusy: true)
        // opencode's plugin `chat.message` hook acknowledges the message id (see OpencodeIntegration).
        case .opencode: return .init(kind: kind, binary: "opencode", expectedCommands: ["opencode", "node", "bun"], resetCommand: "/new",
                                     acknowledgesMessages: true)
        case .aider: return .init(kind: kind, binary: "aider", expectedCommands: ["aider", "python", "python3"], resetCommand: "/clear")
        case .stub:
            return .init(kind: kind, binary: nil, expectedCommands: ["mosaic"], resetCommand: "/reset",
                         acknowledgesMessages: true, framesReset: true)
        // A custom command is known by what runs in the pane: a shell, ipython, a Python input()
        // loop, the stub; anything else gets the generic line prompt.
        case .custom:
            return .init(kind: kind, binary: nil, expectedCommands: nil, resetCommand: nil)
        }
    }

    /// What its input line looks like, tried in order (see `InputLineReader.shapes(for:command:)`).
    /// Empty: the fleet cannot tell a draft from a prompt, so `send` refuses without `--force`.
    /// Computed, so `fleet ps`, which never reads input lines, compiles none of their patterns.
    public var inputShapes: [InputShape] {
        switch kind {
        case .stub: return [.stub]
        case .aider: return [.aider]
        case .claude: return [.claude]
        case .codex: return [.codex]
        case .pi: return [.pi]
        // A custom command is known by what runs in the pane: a shell, ipython, a Python input()
        // loop, the stub; anything else gets the generic line prompt.
        case .custom: return [.stub, .ipython, .shell, .pythonREPL, .linePrompt]
        // Its input box was never captured from the real program here (no build of it could be
        // installed): no guessing.
        case .opencode: return []
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
