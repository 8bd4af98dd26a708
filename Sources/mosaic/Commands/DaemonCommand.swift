import ArgumentParser
import FleetCore
import FleetDaemon
import Foundation

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the fleet daemon: supervision, the event journal, the local API (one per home and host).",
        discussion: """
        Serves HTTP on <home>/fleet/run/daemon.sock (mode 0600, peers of another uid refused): \
        /api/v1/status, /api/v1/fleet, /api/v1/events, /api/v1/events/stream. Journals to \
        <home>/fleet/journal.sqlite. Under systemd it runs as mosaic-daemon.service (Type=notify, \
        watchdog); without, `fleet up` starts it detached. Stops on SIGTERM or SIGINT.

        A second daemon for the same home exits at once with status 75, naming the running one's pid.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Seconds between reconcile snapshots.", valueName: "seconds")) var interval: Double = 5
    @Option(help: ArgumentHelp("Days of journal history kept.", valueName: "days")) var retainDays: Int = 30
    @Option(help: ArgumentHelp("Journal rows kept at most.", valueName: "rows")) var retainRows: Int = 100_000

    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
        guard retainDays >= 1 else { throw ValidationError("--retain-days must be at least 1") }
        guard retainRows >= 100 else { throw ValidationError("--retain-rows must be at least 100") }
    }

    func run() async throws {
        try await guarded {
            let options = Daemon.Options(
                interval: .milliseconds(Int(interval * 1000)),
                retention: JournalRetention(maxAge: .seconds(retainDays * 86_400), maxRows: retainRows),
                version: Mosaic.configuration.version)
            try await Daemon(context: global.context, options: options).run()
        }
    }
}
