import Foundation

/// An agent materialized from a role: what `agent new` writes into the roster.
public enum AgentDefinition {
    /// Why a definition cannot be made.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case noRuntime(role: String)
        case customNeedsCommand(role: String)

        public var description: String {
            switch self {
            case .noRuntime(let role):
                return "role \"\(role)\" names no runtime; pass --runtime (one of \(RuntimeKind.allNames)) or add `runtime:` to the role"
            case .customNeedsCommand(let role):
                return "runtime custom needs a `command:`, which `agent new` does not write; pick another runtime for role \"\(role)\", or add the agent to the roster by hand"
            }
        }
    }

    /// The roster entry for agent `name` of `role`: runtime, model and effort from the role unless
    /// given. A model belongs to the role's runtime, so it is dropped when another runtime is chosen.
    public static func spec(name: String, role: Role, runtime: RuntimeKind?, model: String?, effort: String?,
                            workdir: String?) throws -> AgentSpec {
        try AgentName.validate(name)
        guard let kind = runtime ?? role.runtime else { throw Problem.noRuntime(role: role.name) }
        guard !Runtimes.of(kind).needsCommand else { throw Problem.customNeedsCommand(role: role.name) }
        let roleModel = kind == role.runtime ? role.model : nil
        return AgentSpec(name: name, runtime: kind, workdir: workdir, role: role.name,
                         model: model ?? roleModel, effort: effort ?? role.effort)
    }
}

/// The roster file as text: read whole, replaced atomically with its mode kept.
public struct RosterFile: Sendable {
    public let path: String
    public let host: any Host

    public init(path: String, host: any Host = LocalHost()) {
        self.path = path
        self.host = host
    }

    public func read() throws -> String {
        guard host.fileExists(path) else { throw RosterError.missing(path: path) }
        guard let text = host.readFile(path, limit: 4 << 20) else {
            throw RosterError.unreadable(path: path, reason: "permission denied, not a regular file, or not UTF-8 text")
        }
        return text
    }

    public func replace(with text: String) throws {
        let mode = host.status(path).map { mode_t($0.mode & 0o7777) } ?? 0o644
        try host.writeFile(text, to: path, mode: mode)
    }
}

/// Waits until an agent's heartbeat is healthy, or says why it is not.
public struct HealthWait: Sendable {
    public enum Outcome: Sendable, Equatable {
        case healthy(afterMs: Int)
        case notHealthy(reason: String)
    }

    public let store: HeartbeatStore
    public let interval: Int

    public init(store: HeartbeatStore, interval: Int) {
        self.store = store
        self.interval = interval
    }

    /// Polls the heartbeat file (it is replaced by rename, so each read is whole) until a
    /// heartbeat written after `since` is healthy, or `timeout` passes.
    /// `startedAt` is when the start began, so the time reported is start to healthy.
    public func wait(_ agent: String, since: Date, startedAt: ContinuousClock.Instant = .now, timeout: Duration,
                     paneProblem: @Sendable () async -> String? = { nil }) async -> Outcome {
        let clock = ContinuousClock()
        let start = startedAt
        let deadline = clock.now + timeout
        var checks = 0
        while true {
            let now = Date()
            if let beat = store.read(agent), beat.ts >= since.addingTimeInterval(-1),
               HeartbeatHealth.of(beat, now: now, interval: interval) == .healthy {
                let elapsed = clock.now - start
                return .healthy(afterMs: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
            }
            checks += 1
            // The pane is asked about now and then, not on every check: a dead runtime ends the wait at once.
            if checks % 10 == 0, let problem = await paneProblem() { return .notHealthy(reason: problem) }
            if clock.now >= deadline { break }
            do { try await Task.sleep(for: .milliseconds(20)) } catch { break }
        }
        if let problem = await paneProblem() { return .notHealthy(reason: problem) }
        switch store.read(agent) {
        case nil:
            return .notHealthy(reason: "no heartbeat was written within \(timeout) (\(store.heartbeatPath(agent)) is missing)")
        case let beat?:
            return .notHealthy(reason: "its last heartbeat (\(Timestamp.format(beat.ts)), status \(beat.status)) is not healthy")
        }
    }
}
