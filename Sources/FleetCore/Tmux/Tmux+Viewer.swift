import Foundation

/// Read-only viewers. A watcher's client attaches straight to the agent's session with
/// `-f read-only,ignore-size`: it can neither type nor drive the window's size (the window also
/// has `window-size manual`), and no throwaway session exists, so nothing is left behind when
/// the client goes, however it goes.
///
/// Why not a grouped viewer session with `destroy-unattached` (the first design): measured here,
/// tmux 3.3a's server sometimes segfaults (NULL `curw`, read at 0x10) when it destroys such a
/// session whose client was killed, and takes every agent with it (upstream tmux #5394, #5497).
/// Detaching a client from a session that stays is tmux's most ordinary path.
public enum Viewer {
    /// The key table a watcher's client lives in: `q` or `d` (so the habitual `C-b d` too)
    /// detaches, every other key is swallowed and keeps the client in the table (tmux would
    /// otherwise fall back to the root table after one key). Key tables are per client, so the
    /// agent's own clients are untouched. No two-key prefix table: tmux queues a binding's
    /// commands, so a fast `C-b d` would reach `d` before the switch to such a table.
    public static let keyTable = "mosaic-watch"

    /// Commands that bind the watch tables (idempotent) and attach the calling client read-only.
    public static func attachCommands(agent: String) -> [[String]] {
        [
            ["bind-key", "-T", keyTable, "q", "detach-client"],
            ["bind-key", "-T", keyTable, "d", "detach-client"],
            ["bind-key", "-T", keyTable, "Any", "switch-client", "-T", keyTable],
            ["attach-session", "-f", "read-only,ignore-size", "-t", "=\(agent)"],
            ["switch-client", "-T", keyTable],
        ]
    }
}

extension Tmux {
    static func joined(_ commands: [[String]]) -> [String] {
        commands.enumerated().flatMap { $0.offset == 0 ? $0.element : [";"] + $0.element }
    }

    /// The client a terminal runs to watch: `exec` it, so nothing of mosaic stays in between.
    /// Long-lived by design: its bound is the viewer's patience, not a timeout.
    public func watchInvocation(agent: String) -> Invocation {
        var inv = invocation(Self.joined(Viewer.attachCommands(agent: agent)))
        inv.timeout = .seconds(366 * 86400)
        return inv
    }

    /// The control-mode client (`-C`) that streams the agent's output as `%output` lines for
    /// programs without a terminal. Read-only, size ignored; it exits when its stdin closes.
    public func controlInvocation(agent: String) -> Invocation {
        var inv = invocation(["attach-session", "-f", "read-only,ignore-size", "-t", "=\(agent)"])
        let globals = inv.arguments.count - 5
        inv.arguments.insert("-C", at: globals)
        inv.timeout = .seconds(366 * 86400)
        return inv
    }

    /// The interactive takeover: a normal client on the agent's own session. The warning is also
    /// shown in tmux's own status line, because tmux may flush a terminal's unread output (the
    /// line mosaic printed just before) when it takes the terminal over.
    public func attachInvocation(agent: String) -> Invocation {
        var inv = invocation(["attach-session", "-t", "=\(agent)", ";", "display-message", "-d", "4000",
                              "attached to \(agent) with full control: what you type goes to the agent (detach: C-b d)"])
        inv.timeout = .seconds(366 * 86400)
        return inv
    }
}
