import Foundation

/// `<run>/<agent>.state`: the runtime's own reports, written by hooks, read by the sidecar.
/// Updates are read-modify-write under a lock, because hooks of one runtime can run at once
/// (Codex starts matching hooks concurrently) and an update must not drop another's `ack`.
public struct RuntimeStateStore: Sendable {
    public let directory: String
    public let host: any Host

    public init(directory: String, host: any Host = LocalHost()) {
        self.directory = directory
        self.host = host
    }

    public func path(_ agent: String) -> String { "\(directory)/\(agent).state" }
    func lockPath(_ agent: String) -> String { "\(directory)/\(agent).state.lock" }

    public func read(_ agent: String) -> RuntimeState? {
        host.readFile(path(agent), limit: 4096).flatMap(RuntimeState.parse)
    }

    /// Applies `update` to the agent's state and returns the new state.
    @discardableResult
    public func apply(_ update: StatusUpdate, for agent: String, now: Date? = nil) throws -> RuntimeState {
        try AgentName.validate(agent)
        for value in [update.event, update.ack ?? ""] where value.contains("\n") || value.contains("\r") {
            throw FileIO.Failure(path: path(agent), reason: "a state value may not contain a line break")
        }
        // Bounded: a hook must never hang its runtime behind a stuck one.
        let lock = try FileLock(path: lockPath(agent), timeout: .seconds(10))
        defer { lock.release() }
        let state = update.applied(to: read(agent), now: now ?? host.now())
        try host.writeFile(state.serialized(), to: path(agent), mode: 0o600)
        return state
    }

    public func remove(_ agent: String) {
        host.removeFile(path(agent))
        host.removeFile(lockPath(agent))
    }
}
