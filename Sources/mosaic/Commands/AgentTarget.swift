import ArgumentParser
import FleetCore
import Foundation

/// One running agent, resolved for the steering verbs: its roster entry, adapter and a tmux
/// client whose every call is bounded by a short timeout.
struct AgentTarget {
    let context: FleetContext
    let roster: Roster
    let spec: AgentSpec
    let tmux: Tmux

    var name: String { spec.name }
    var adapter: RuntimeAdapter { Runtimes.of(spec.runtime) }

    /// Loads the roster, checks the name and that the agent's session exists.
    static func resolve(_ name: String, global: GlobalOptions, timeout: Duration = .seconds(5)) async throws -> AgentTarget {
        try AgentName.validate(name)
        let context = global.context
        let roster = try context.loadRoster()
        guard let spec = roster.agent(named: name) else {
            throw RosterError.unknownAgents([name], known: roster.agents.map(\.name))
        }
        let tmux = try context.tmux(for: roster, timeout: timeout)
        guard try await tmux.hasSession(name) else { throw TmuxError.noSuchSession(name) }
        return AgentTarget(context: context, roster: roster, spec: spec, tmux: tmux)
    }

    /// Both ends of the terminal: what an interactive client needs.
    static var onTerminal: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }
}

/// Runs `body` on a plain thread (it blocks on reads) and stops `stop` on SIGINT/SIGTERM/SIGHUP.
func runInterruptibly<T>(stop: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    var sources: [DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler(handler: stop)
        source.resume()
        sources.append(source)
    }
    defer { sources.forEach { $0.cancel() } }
    return try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
