import ArgumentParser
import FleetCore
import FleetDaemon
import Foundation

struct FleetPS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "One truthful table of the fleet: systemd, tmux, the process tree and the heartbeat.",
        discussion: """
        Healthy means the agent's pane is alive, its process not stopped, its heartbeat recent (within \
        3 intervals and not more than one ahead of the clock, written by the runtime or, for claude, codex, pi, opencode and aider, by its sidecar \
        only while the runtime process runs), and it is not silent while busy (Claude Code, Codex and pi \
        animate their screens while they work: busy with a still screen for heartbeat.silentBusySeconds \
        means a hang); with --probe, also that it answered a fresh probe. A dead pane's row says its exit \
        status or signal and its last output. Flags: DRIFT (the pane runs something the roster's runtime \
        never runs as), BOOT-ENABLE (active but not enabled at boot, or linger off), MISSING (no tmux \
        session), SILENT (busy with a still screen). Sessions the roster does not name are listed as strays. `n/a`: no systemd.

        The JSON array has one object per roster agent ("kind": "agent") followed by strays ("kind": "stray").
        """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of the table.") var json = false
    @Flag(help: "Ask every agent for a fresh heartbeat with a new nonce and wait for the answers.") var probe = false
    @Option(help: ArgumentHelp("How long --probe waits for answers, in seconds.", valueName: "seconds"))
    var probeTimeout: Double = 2
    @Flag(help: "Exit 3 unless every agent is healthy (for scripts).") var check = false

    func validate() throws {
        guard probeTimeout > 0, probeTimeout <= 60 else { throw ValidationError("--probe-timeout must be between 0 and 60 seconds") }
    }

    func run() async throws {
        try await guarded {
            let context = global.context
            let roster = try context.loadRoster()
            let readings = try await PlaneReader(context: context)
                .read(roster: roster, probeTimeout: probe ? .milliseconds(Int(probeTimeout * 1000)) : nil)
            let snapshot = FleetSnapshot.join(roster: roster, readings: readings, now: Date())
            snapshot.warnings.forEach { Console.error($0) }
            // An unanswered probe is news for the journal (nobody else asks the agent this).
            let unanswered = snapshot.agents.filter { $0.probe?.answered == false }.map { row in
                JournalEvent(ts: Date(), tenant_id: row.tenant_id, host: row.host, agent: row.name, kind: .probeFailed,
                             detail: EventDetail(message: "no answer to nonce \(row.probe?.nonce ?? "?") within \(probeTimeout) s"),
                             actor: context.userName)
            }
            await DaemonHooks.record(unanswered, paths: context.paths)
            if json {
                try Console.json(FleetDocument(snapshot))
            } else {
                Console.out(SnapshotRenderer.table(snapshot, width: Console.width, color: Console.useColor))
            }
            if check && !snapshot.allHealthy { throw ExitCode(ExitStatus.negativeVerdict) }
        }
    }
}

struct FleetVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check tmux, the socket, the holder, units, enablement, linger and home permissions.",
        discussion: "Prints each problem on its own line with its fix; exits 3 if any problem is found."
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        try await guarded {
            let checks = await Verifier(context: global.context).run()
            if json {
                try Console.json(checks.map(CheckEntry.init))
            } else {
                for c in checks {
                    let mark = c.level == .ok ? "ok     " : c.level == .info ? "info   " : "PROBLEM"
                    Console.out("\(mark) \(c.name): \(c.detail)" + (c.fix.map { "\n        fix: \($0)" } ?? "") + "\n")
                }
            }
            if checks.contains(where: { $0.level == .problem }) { throw ExitCode(ExitStatus.negativeVerdict) }
        }
    }
}
