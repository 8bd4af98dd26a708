import FleetCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// `mosaic daemon`: the one long-running process of a fleet home on a host. A ServiceGroup of the
/// API server (HTTP on `<run>/daemon.sock`), the journal publisher and the supervisor loop, shut
/// down gracefully on SIGTERM and SIGINT.
public struct Daemon {
    public struct Options: Sendable {
        public var interval: Duration
        public var retention: JournalRetention
        public var version: String

        public init(interval: Duration = .seconds(5), retention: JournalRetention = .default, version: String) {
            self.interval = interval
            self.retention = retention
            self.version = version
        }
    }

    public let context: FleetContext
    public let options: Options

    public init(context: FleetContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// Runs until SIGTERM/SIGINT. Throws `DaemonLock.Failure.held` at once if another daemon runs.
    public func run() async throws {
        let paths = context.paths
        try FileIO.makeDirectory(paths.runDirectory, mode: 0o700)
        let lock = try DaemonLock(path: paths.daemonLock)
        defer { lock.release() }
        // Files and the socket are ours alone (the socket is also chmod 0600 once bound).
        umask(0o077)
        // A pidfd per agent (the pane-death watcher): room for a big fleet beside the rest.
        OpenFileLimit.raise()

        let logger = {
            var logger = Logger(label: "mosaic-daemon")
            logger.logLevel = .info
            return logger
        }()
        let started = Date()
        let pid = getpid()
        let defaults = context.rosterDefaults
        let roster = try? context.loadRoster()
        let tenant = roster?.tenant ?? defaults.tenant
        let host = roster?.host ?? defaults.host

        let journal = DaemonJournal(path: paths.journal, tenant: tenant, host: host, logger: logger)
        await journal.connect(now: started)
        await journal.record([JournalEvent(ts: started, tenant_id: tenant, host: host, kind: .daemonStarted,
                                           detail: EventDetail(pid: pid, message: "mosaic \(options.version)"), actor: "daemon")])
        let broadcaster = EventBroadcaster()
        let state = DaemonState(pid: pid, started: started)
        let notifier = SystemdNotifier(environment: context.environment)
        let version = options.version
        let api = DaemonAPI(
            status: {
                DaemonStatus(pid: pid, started: Timestamp.format(started), version: version, home: paths.home,
                             agentsAdopted: await state.adopted, journal: paths.journal,
                             journalAvailable: await journal.isAvailable, supervisorTicks: await state.ticks)
            },
            fleet: LiveFleetSource(context: context), journal: journal, broadcaster: broadcaster)
        let app = buildApplication(api, socketPath: paths.daemonSocket, logger: logger, onRunning: {
            logger.info("listening on \(paths.daemonSocket) (pid \(pid))")
        })
        // The roster's restart policies run unless `MOSAIC_SUPERVISE=off` (then the daemon only
        // observes and journals). CLI verbs and the supervisor never interleave (FleetOperation).
        let supervising = context.environment["MOSAIC_SUPERVISE"] != "off"
        let step: any SupervisionStep = supervising
            ? PolicySupervisor(context: context, journal: journal, logger: logger) : ObservingSupervisor()
        let supervisor = SupervisorService(context: context, journal: journal, state: state, supervisor: step, followDeaths: supervising, interval: options.interval,
                                           notifier: notifier, logger: logger)
        let journalService = JournalService(journal: journal, broadcaster: broadcaster, retention: options.retention, logger: logger)
        // Shut down in reverse order: the supervisor first, then the live streams, then the server.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: journalService), .init(service: supervisor)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        await journal.record([JournalEvent(ts: Date(), tenant_id: tenant, host: host, kind: .daemonStopped,
                                           detail: EventDetail(pid: pid), actor: "daemon")])
        context.host.removeFile(paths.daemonSocket)
    }
}
