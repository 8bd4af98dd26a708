import ArgumentParser
import FleetCore
import Foundation

struct AgentWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "A live, read-only view of an agent's pane: it never types and never resizes the agent.",
        discussion: """
        On a terminal, attaches a read-only client that ignores its own size to the agent's session: \
        it cannot type and cannot resize the agent's window. Press q (or C-b d) to stop. No \
        session is created for the watcher, so nothing is left behind however it ends (even \
        `kill -9`). Any number of watchers can look at once.

        Without a terminal (a pipe, a script), streams the pane's output as text until interrupted \
        or until the agent stops: escape sequences and carriage returns are removed (--raw keeps them).
        """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent to watch.") var name: String
    @Flag(help: "Without a terminal: pass the pane's bytes through unchanged (escape sequences included).")
    var raw = false

    func run() async throws {
        try await guarded {
            let target = try await AgentTarget.resolve(name, global: global)
            if AgentTarget.onTerminal {
                Console.note("watching agent \"\(name)\" read-only; press q (or C-b d) to stop")
                // exec: the terminal's client is tmux itself, so killing it (or this pid) ends the viewer.
                try target.context.host.exec(target.tmux.watchInvocation(agent: name))
            }
            let paneId = try await target.tmux.snapshot(agent: name).paneId
            try await PaneFollower(tmux: target.tmux, agent: name, raw: raw)
                .follow(paneId: paneId, initialCapture: Tmux.captureCommand(target: paneId, history: 0, escapes: false), lines: nil)
        }
    }
}

struct AgentAttach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Take over an agent's pane interactively: the ONLY verb that types what you type into the agent.",
        discussion: """
        Everything you type goes to the agent. Detach with C-b d: the agent keeps running.

        To look without touching, use `mosaic agent watch`; to type from a script, `mosaic agent send`.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent to take over.") var name: String

    func run() async throws {
        try await guarded {
            guard AgentTarget.onTerminal else {
                throw ValidationError("attach needs a terminal; from a script use `mosaic agent send` to type or `mosaic agent tail` to read")
            }
            let target = try await AgentTarget.resolve(name, global: global)
            Console.error("attaching to agent \"\(name)\" with full control: what you type goes to the agent (detach: C-b d)")
            try target.context.host.exec(target.tmux.attachInvocation(agent: name))
        }
    }
}

/// Streams a pane's output to stdout through a control-mode viewer, until a signal or the agent's end.
struct PaneFollower {
    let tmux: Tmux
    let agent: String
    let raw: Bool

    /// `lines`: keep only the last so many lines of the initial capture.
    func follow(paneId: String, initialCapture: [String], lines: Int?) async throws {
        let stream = PaneStream(tmux: tmux, agent: agent)
        let raw = self.raw
        let end = try await runInterruptibly(stop: { stream.stop() }) {
            var text = TerminalText()
            return try stream.run(paneId: paneId, initialCapture: initialCapture, initial: { screen in
                let rows = TerminalText.lastLines(of: screen, count: lines)
                Console.out(rows.isEmpty ? "" : rows.joined(separator: "\n") + "\n")
            }, output: { data in
                FileHandle.standardOutput.write(raw ? data : text.filter(data))
            })
        }
        if case .exited(let reason?) = end { Console.note("stream ended: \(reason)") }
    }
}
