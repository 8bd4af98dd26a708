import ArgumentParser
import FleetCore
import FleetDaemon
import Foundation

struct FleetEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "The fleet's event journal as a timeline: starts, exits, state changes, who stopped what.",
        discussion: """
        Read from <home>/fleet/journal.sqlite (no daemon needed). --follow then streams new events \
        through the daemon's socket as they happen (exit 69 when no daemon runs). --json prints one \
        JSON object per line with the keys id, ts, tenant_id, host, agent, kind, detail, actor.

        Kinds: \(EventKind.known.map(\.rawValue).joined(separator: ", ")).
        """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Keep printing new events as they happen (needs the daemon).") var follow = false
    @Option(help: ArgumentHelp("Only events this recent: 90s, 15m, 1h, 7d, or an ISO 8601 time.", valueName: "age"))
    var since: String?
    @Option(help: ArgumentHelp("Only this agent's events.", valueName: "name")) var agent: String?
    @Option(help: ArgumentHelp("Only events of this kind.", valueName: "kind")) var kind: String?
    @Option(help: ArgumentHelp("At most this many of the newest events (before following).", valueName: "n")) var limit: Int?
    @Flag(help: "JSON lines instead of the timeline.") var json = false

    func validate() throws {
        if let since, SinceParser.parse(since, now: Date()) == nil {
            throw ValidationError("--since \(since): give a duration (90s, 15m, 1h, 7d) or an ISO 8601 time")
        }
        if let agent, !AgentName.isValid(agent) { throw ValidationError(RosterError.invalidAgentName(agent).description) }
        if let kind, !EventKind.known.contains(EventKind(rawValue: kind)) {
            throw ValidationError("--kind \(kind) is not an event kind; one of: \(EventKind.known.map(\.rawValue).joined(separator: ", "))")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await guarded {
            let context = global.context
            let filter = EventFilter(since: since.flatMap { SinceParser.parse($0, now: Date()) }, agent: agent,
                                     kind: kind.map(EventKind.init(rawValue:)), limit: limit)
            let client = DaemonClient(socketPath: context.paths.daemonSocket)
            if follow {
                // Said before any history is printed: --follow without a daemon is a usage problem of the moment.
                do { _ = try await client.get("/api/v1/status") } catch let error as DaemonClientError {
                    Console.error("\(error)")
                    throw ExitCode(ExitStatus.unavailable)
                }
            }
            var last: Int64 = 0
            if context.host.fileExists(context.paths.journal) {
                let defaults = context.rosterDefaults
                let (journal, moved) = try Journal.connect(path: context.paths.journal, tenant: defaults.tenant, host: defaults.host)
                if let moved { Console.error(JournalError.corrupt(path: context.paths.journal, movedTo: moved).description) }
                for event in try journal.eventsSync(filter) {
                    print(event)
                    last = max(last, event.id ?? 0)
                }
            }
            guard follow else { return }
            var query = ["after=\(last)"]
            if let agent { query.append("agent=\(agent)") }
            if let kind { query.append("kind=\(kind)") }
            do {
                try await client.followEvents("/api/v1/events/stream?" + query.joined(separator: "&")) { event in print(event) }
            } catch let error as DaemonClientError {
                Console.error("\(error)")
                throw ExitCode(ExitStatus.unavailable)
            }
            Console.note("the daemon ended the stream (it stopped)")
        }
    }

    func print(_ event: JournalEvent) {
        Console.out((json ? event.jsonLine() : EventRenderer.line(event, color: Console.useColor)) + "\n")
    }
}
