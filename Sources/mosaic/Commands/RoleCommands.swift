import ArgumentParser
import FleetCore
import Foundation

struct RoleGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role",
        abstract: "The role library: personas and defaults that `agent new` builds agents from.",
        discussion: "Built-in roles ship in the binary; <home>/roles/NAME.yaml adds a role or overrides the fields it sets of a built-in one.",
        subcommands: [RoleList.self, RoleShow.self]
    )
}

struct RoleList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the roles: built-in and the home's own.",
        discussion: "Exit status: 0 listed; 65 a role file in <home>/roles is invalid (file:line and the fix).")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of the table.") var json = false

    func run() async throws {
        try await guarded {
            let library = try RoleLibrary.load(directory: RoleLibrary.directory(home: global.context.paths.home))
            Console.out(RoleRenderer.list(library.roles, json: json, width: Console.width, color: Console.useColor))
        }
    }
}

struct RoleShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one role: its defaults and its full persona.",
        discussion: "Exit status: 0 shown; 64 a name outside the pattern; 65 no such role, or an invalid role file.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The role's name.") var name: String
    @Flag(help: "Print JSON (the persona included) instead of text.") var json = false

    func validate() throws {
        guard AgentName.isValid(name) else { throw ValidationError(RoleError.invalidName(name).description) }
    }

    func run() async throws {
        try await guarded {
            let library = try RoleLibrary.load(directory: RoleLibrary.directory(home: global.context.paths.home))
            Console.out(RoleRenderer.show(try library.role(named: name), json: json))
        }
    }
}
