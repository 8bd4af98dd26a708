import ArgumentParser
import FleetCore
import Foundation

struct FleetInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the fleet home, a starter roster if none exists, and the systemd units.",
        discussion: """
        Creates <home>/fleet (heartbeat directory mode 0700) and, where no roster exists, a demo roster \
        of stub agents. Where a systemd user manager is reachable it installs mosaic-holder.service and \
        the template mosaic-agent@.service; --enable also enables them for every roster agent.

        Running it twice is harmless.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Enable the holder and every agent's unit so the fleet comes back at boot.")
    var enable = false
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await guarded {
            let context = global.context
            let paths = context.paths
            var wroteRoster = false
            try context.host.makeDirectory(paths.fleetDirectory, mode: 0o755)
            if !context.host.fileExists(paths.roster) {
                try context.host.writeFile(StarterRoster.text, to: paths.roster, mode: 0o644)
                wroteRoster = true
            }
            let roster = try context.loadRoster()
            let launcher = try Launcher(context: context, roster: roster)
            try launcher.prepareHome()
            var installed: [String] = [], enabled: [String] = []
            let systemd = context.systemctl.isReachable
            if systemd {
                let installer = UnitInstaller(context: context, roster: roster)
                installed = try await installer.install()
                if enable {
                    let current = try UnitInstaller.enabledUnits(in: context.unitDirectory, host: context.host)
                    enabled = installer.unitsToEnable.filter { !current.contains($0) }
                    if !enabled.isEmpty { try await context.systemctl.enable(enabled) }
                }
            }
            let linger = context.lingerEnabled
            if json {
                try Console.json(InitResult(tenant_id: roster.tenant, host: roster.host, home: paths.home, roster: paths.roster,
                                            rosterWritten: wroteRoster, systemd: systemd, unitsWritten: installed, unitsEnabled: enabled,
                                            linger: systemd ? linger : nil))
                return
            }
            Console.out("home     \(paths.home)\n")
            Console.out("roster   \(paths.roster)" + (wroteRoster ? " (starter roster written: \(roster.agents.count) stub agents)\n" : " (kept)\n"))
            Console.out("run dir  \(paths.runDirectory) (0700)\n")
            guard systemd else {
                Console.out("systemd  n/a: no user manager reachable; the fleet runs on tmux alone (no restart at boot)\n")
                return
            }
            Console.out("units    " + (installed.isEmpty ? "already installed" : "installed \(installed.joined(separator: ", "))")
                        + " in \(context.unitDirectory)\n")
            if enable {
                Console.out("enabled  " + (enabled.isEmpty ? "already enabled" : "\(enabled.count) units") + "\n")
            } else {
                Console.out("enabled  not changed; `mosaic fleet init --enable` makes the fleet start at boot\n")
            }
            Console.out("linger   " + (linger ? "on" : "off: the fleet stops at logout; turn it on with `loginctl enable-linger \(context.userName)`") + "\n")
        }
    }
}
