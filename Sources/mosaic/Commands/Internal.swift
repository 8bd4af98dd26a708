import ArgumentParser
import FleetCore
import Foundation

/// Entry points for the systemd units; not for people.
struct Internal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unit entry points (used by mosaic-holder.service and mosaic-agent@.service) and the runtime sidecar.",
        shouldDisplay: false,
        subcommands: [Holder.self, Launch.self, Stop.self, Sidecar.self]
    )

    struct Holder: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wait for the tmux server the holder unit runs, then create the holder session.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await guarded {
                let context = global.context
                let roster = try context.loadRoster()
                let launcher = try Launcher(context: context, roster: roster, useSystemd: false)
                try launcher.prepareHome()
                // systemd gives ExecStartPost= the main process's pid: the tmux server itself.
                let serverPid = context.environment["MAINPID"].flatMap { Int32($0) }
                try await launcher.createHolderWhenServerAnswers(timeout: .seconds(10), serverPid: serverPid)
            }
        }
    }

    struct Launch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create one agent's session in the running server.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await guarded {
                try AgentName.validate(name)
                let context = global.context
                let roster = try context.loadRoster()
                guard let agent = roster.agent(named: name) else { throw RosterError.unknownAgents([name], known: roster.agents.map(\.name)) }
                try await Launcher(context: context, roster: roster, useSystemd: false).launchInRunningServer(agent)
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kill one agent's session and remove its heartbeat.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await guarded {
                try AgentName.validate(name)
                let context = global.context
                let roster = try context.loadRoster()
                try await Launcher(context: context, roster: roster, useSystemd: false).stopSession(name)
            }
        }
    }
}
