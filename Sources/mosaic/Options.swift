import ArgumentParser
import FleetCore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Fleet home (default: $MOSAIC_HOME, else ~/.config/mosaic).", valueName: "dir"))
    var home: String?

    var context: FleetContext { FleetContext.current(homeOption: home) }
}

/// Agent names given on the command line, checked with the roster's own rule before any use.
struct AgentNames: ParsableArguments {
    @Argument(help: "Agents to act on (default: every agent in the roster).")
    var names: [String] = []

    func validate() throws {
        for name in names where !AgentName.isValid(name) {
            throw ValidationError(RosterError.invalidAgentName(name).description)
        }
    }
}
