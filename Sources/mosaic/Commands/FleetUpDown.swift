import ArgumentParser
import FleetCore
import FleetDaemon
import Foundation

struct FleetUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start agents (all, or those named); running agents are left as they are.",
        discussion: """
        Through their systemd units where a user manager runs, directly through tmux where not. Set MOSAIC_SYSTEMD=off to force tmux alone. \
        Also starts the fleet daemon if none runs (its unit, or detached with its log in <home>/fleet/daemon.log; MOSAIC_DAEMON=off: not), \
        and journals what it started.
        """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var agents: AgentNames
    @Flag(help: "Print the outcome per agent as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let context = global.context
            let roster = try context.loadRoster()
            let selected = try roster.select(agents.names)
            let launcher = try Launcher(context: context, roster: roster)
            // Held until the outcome is journaled: the daemon sees the fleet before this verb or after it.
            let operation = try FleetOperation.lock(context.paths)
            defer { operation.release() }
            if let warning = PersonaFile.prepare(selected, context: context) { Console.error(warning) }
            let outcomes = try await launcher.up(selected, progress: Console.progress)
            // The operator's intent counts even when the runtime fails at once: it clears a crash loop.
            await DaemonHooks.journal(outcomes, context: context, actions: [.started: .startedByUser, .failed: .startedByUser])
            // Let go first: a daemon started now takes the lock for its first look, and under
            // systemd (Type=notify) `systemctl start` waits for that look to end in READY=1.
            operation.release()
            await DaemonHooks.ensureDaemon(context)
            try OutcomePrinter.print(outcomes, json: json)
        }
    }
}

struct FleetDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop agents (all, or those named) and remove their heartbeats.",
        discussion: "With no names, also stops the fleet daemon, the holder and the fleet's tmux server, unless sessions the roster does not name still run there. Journals what it stopped."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var agents: AgentNames
    @Flag(help: "Print the outcome per agent as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let context = global.context
            let roster = try context.loadRoster()
            let selected = try roster.select(agents.names)
            let launcher = try Launcher(context: context, roster: roster)
            // Held until the outcome is journaled: the daemon sees the fleet before this verb or after it.
            let operation = try FleetOperation.lock(context.paths)
            defer { operation.release() }
            // The daemon goes first, so it does not report the agents going down as deaths.
            if agents.names.isEmpty { await DaemonHooks.stopDaemon(context) }
            let result = try await launcher.down(selected, all: agents.names.isEmpty)
            PersonaFile.removeAll(selected, runDirectory: context.paths.runDirectory)
            // A dead or backing-off agent stopped by name must stay down too, not only a running one.
            await DaemonHooks.journal(result.outcomes, context: context, actions: [.stopped: .stoppedByUser, .notRunning: .stoppedByUser])
            if !result.strays.isEmpty {
                Console.note("tmux server kept: stray sessions still run there: \(result.strays.joined(separator: ", "))")
            } else if result.serverStopped {
                Console.note("holder and tmux server stopped")
            }
            try OutcomePrinter.print(result.outcomes, json: json)
        }
    }
}

struct FleetRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Stop, then start agents (all, or those named). The tmux server keeps running."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var agents: AgentNames
    @Flag(help: "Print the outcome per agent as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let context = global.context
            let roster = try context.loadRoster()
            let selected = try roster.select(agents.names)
            let launcher = try Launcher(context: context, roster: roster)
            // Held until the outcome is journaled: the daemon sees the fleet before this verb or after it.
            let operation = try FleetOperation.lock(context.paths)
            defer { operation.release() }
            if let warning = PersonaFile.prepare(selected, context: context) { Console.error(warning) }
            let outcomes = try await launcher.restart(selected, progress: Console.progress)
            await DaemonHooks.journal(outcomes, context: context, actions: [.restarted: .restartedByUser, .failed: .restartedByUser])
            try OutcomePrinter.print(outcomes, json: json)
        }
    }
}

/// Prints per-agent outcomes; any failure makes the command exit 1.
enum OutcomePrinter {
    static func print(_ outcomes: [AgentOutcome], json: Bool) throws {
        if json {
            try Console.json(outcomes.map(OutcomeEntry.init))
        } else {
            let rows = outcomes.map { o -> [Table.Cell] in
                [Table.Cell(o.name), Table.Cell(o.action.rawValue, color: o.action == .failed ? "31" : "32"),
                 Table.Cell(o.via), Table.Cell(o.detail ?? "")]
            }
            Console.out(Table(columns: [.init("AGENT"), .init("RESULT"), .init("VIA"), .init("DETAIL", shrinkable: true)], rows: rows)
                .rendered(width: Console.width, color: Console.useColor))
        }
        let failed = outcomes.filter { $0.action == .failed }
        if !failed.isEmpty {
            Console.error("\(failed.count) of \(outcomes.count) agents failed: \(failed.map(\.name).joined(separator: ", "))")
            throw ExitCode(ExitStatus.failure)
        }
    }
}
