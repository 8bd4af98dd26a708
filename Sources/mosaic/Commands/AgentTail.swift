import ArgumentParser
import FleetCore
import Foundation

struct AgentTail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print an agent's screen and recent history; full-screen programs (vim, less) show as they are.",
        discussion: """
        Without -n, prints the visible screen. With -n LINES, the last LINES lines of history and screen.

        Colours are kept on a terminal (not with NO_COLOR). A blank screen is said so on stderr, never \
        printed as silence. --follow then streams new output as text until interrupted.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent to read.") var name: String
    @Option(name: [.customShort("n"), .customLong("lines")], help: "How many lines (default: the visible screen).") var lines: Int?
    @Flag(name: [.short, .long], help: "Keep streaming new output (until interrupted or the agent stops).") var follow = false

    func validate() throws {
        if let lines, !(1...100_000).contains(lines) { throw ValidationError("-n must be between 1 and 100000, not \(lines)") }
    }

    func run() async throws {
        try await guarded {
            let target = try await AgentTarget.resolve(name, global: global)
            if follow {
                let paneId = try await target.tmux.snapshot(agent: name).paneId
                let capture = Tmux.captureCommand(target: paneId, history: lines ?? 0, escapes: false)
                try await PaneFollower(tmux: target.tmux, agent: name, raw: false)
                    .follow(paneId: paneId, initialCapture: capture, lines: lines)
                return
            }
            let tail = try await target.tmux.tail(agent: name, lines: lines, escapes: Console.useColor)
            if tail.isBlank {
                Console.note("agent \"\(name)\": the screen is blank (\(tail.command) has drawn nothing yet)")
                return
            }
            if tail.fullScreen {
                Console.note("agent \"\(name)\": \(tail.command) is showing full-screen; this is its screen (no history)")
            }
            Console.out(tail.lines.joined(separator: "\n") + "\n")
        }
    }
}
