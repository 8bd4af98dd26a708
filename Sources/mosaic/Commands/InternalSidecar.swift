import ArgumentParser
import FleetCore
import Foundation

extension Internal {
    /// Started by an agent's pane command just before it execs the runtime; see `RuntimeSidecar`.
    struct Sidecar: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep the heartbeat of a runtime that cannot write one (started by the pane command).")

        @OptionGroup var global: GlobalOptions
        @Option(help: "The agent.") var agent: String
        @Option(help: "Its runtime: \(RuntimeKind.allNames).") var runtime: String
        @Option(help: "The pane's process (the runtime once the pane command has exec'd it).") var pid: Int32
        @Option(help: "Heartbeat interval in seconds.") var interval: Int

        func validate() throws {
            try AgentName.validate(agent)
            guard RuntimeKind(rawValue: runtime) != nil else { throw ValidationError("unknown runtime \"\(runtime)\"") }
            guard pid > 1 else { throw ValidationError("--pid must be a process id, not \(pid)") }
            guard (1...3600).contains(interval) else { throw ValidationError("--interval must be 1 to 3600 seconds") }
        }

        func run() throws {
            // Leave the pane's session and process group: no SIGHUP when the pane closes, no
            // SIGCONT/SIGSTOP aimed at the pane's group. Fails only for a group leader, which a
            // background job of the pane's shell is not.
            _ = setsid()
            let context = global.context
            let kind = RuntimeKind(rawValue: runtime)!
            let files = AgentRuntimeFiles(runDirectory: context.paths.runDirectory, agent: agent)
            let log = SidecarLog(path: files.sidecarLog, host: context.host)
            let options = RuntimeSidecar.Options(
                agent: agent, pid: pid, adapter: Runtimes.of(kind), interval: .seconds(interval),
                heartbeats: context.heartbeats, states: context.runtimeStates, host: context.host)
            let sources = Runtimes.of(kind).eventSources(files: files, environment: context.environment)
            // Recorded so `fleet down` can stop this sidecar even if the runtime outlives its pane.
            if let me = context.processTable.sample(getpid()), let start = me.startTime {
                do {
                    try context.host.writeFile(SidecarRecord(pid: getpid(), startTime: start).serialized, to: files.sidecarPid, mode: 0o600)
                } catch {
                    log.write("cannot record the sidecar's pid: \(error)")
                }
            }
            let sidecar = RuntimeSidecar(options: options, sources: sources, log: { log.write($0) })
            _ = sidecar.run()
            // Leave the record only if it is still ours (a newer sidecar may have replaced it).
            if SidecarRecord.parse(context.host.readFile(files.sidecarPid) ?? "")?.pid == getpid() { context.host.removeFile(files.sidecarPid) }
        }
    }
}
