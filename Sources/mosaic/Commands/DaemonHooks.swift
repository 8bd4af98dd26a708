import FleetCore
import FleetDaemon
import Foundation

/// What `fleet up` / `down` / `restart` do about the daemon and the journal. Neither may fail the
/// verb: the agents were started or stopped, and that stands; a problem here is a warning.
enum DaemonHooks {
    /// Journals the outcomes whose action is in `actions`, with the OS user as the actor.
    static func journal(_ outcomes: [AgentOutcome], context: FleetContext, actions: [AgentOutcome.Action: EventKind]) async {
        let now = Date()
        let events = outcomes.compactMap { o -> JournalEvent? in
            guard let kind = actions[o.action] else { return nil }
            return JournalEvent(ts: now, tenant_id: o.tenant_id, host: o.host, agent: o.name, kind: kind,
                                detail: EventDetail(via: o.via, message: o.detail), actor: context.userName)
        }
        await record(events, paths: context.paths)
    }

    /// Writes a verb's events to the journal; a journal that cannot take them is a warning only.
    static func record(_ events: [JournalEvent], paths: FleetPaths) async {
        if let warning = await Journal.recordFromCLI(events, paths: paths) { Console.error(warning) }
    }

    static func ensureDaemon(_ context: FleetContext) async {
        do {
            switch try await DaemonControl(context: context).ensureRunning() {
            case .spawned(let pid): Console.note("fleet daemon started (pid \(pid), log \(context.paths.daemonLog))")
            case .startedUnit: Console.note("fleet daemon started (\(FleetFiles.daemonUnit))")
            case .alreadyRunning, .disabled: break
            }
        } catch {
            Console.error("the fleet daemon could not be started: \(error)")
        }
    }

    static func stopDaemon(_ context: FleetContext) async {
        do {
            switch try await DaemonControl(context: context).stop() {
            case .signalled(let pid): Console.note("fleet daemon stopped (pid \(pid))")
            case .stoppedUnit: Console.note("fleet daemon stopped (\(FleetFiles.daemonUnit))")
            case .notRunning: break
            }
        } catch {
            Console.error("the fleet daemon could not be stopped: \(error)")
        }
    }
}
