import ArgumentParser
import FleetCore
import Foundation

@main
struct Mosaic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mosaic",
        abstract: "Run a fleet of AI coding agents durably, observe it truthfully, steer it safely.",
        discussion: """
        The roster (<home>/fleet/roster.yaml; home = --home, MOSAIC_HOME or ~/.config/mosaic) defines the agents. Each runs in its own detached tmux session on the fleet's own socket, under a systemd user unit where a user manager runs.

        Observation is read-only: `fleet ps` and `agent watch` never type into an agent.

        \(ExitStatus.helpText)
        """,
        version: "0.1.0",
        subcommands: [Fleet.self, Agent.self, RoleGroup.self, DaemonCommand.self, Internal.self]
    )

    /// Diagnostics go to stderr at `MOSAIC_LOG`'s level before any command runs.
    static func main() async {
        Log.bootstrap(environment: ProcessInfo.processInfo.environment)
        await Self.main(nil)
    }
}

struct Fleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the fleet up and down, and see its real state.",
        subcommands: [FleetInit.self, FleetUp.self, FleetDown.self, FleetRestart.self, FleetPS.self, FleetTop.self, FleetVerify.self, FleetEvents.self]
    )
}

struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with one agent: watch, tail, send, reset, attach; list the roster, heartbeats, the stub runtime.",
        subcommands: [AgentWatch.self, AgentTail.self, AgentSend.self, AgentReset.self, AgentAttach.self,
                      AgentRoster.self, AgentHeartbeat.self, AgentHook.self, AgentStub.self, AgentNew.self, AgentRm.self]
    )
}
