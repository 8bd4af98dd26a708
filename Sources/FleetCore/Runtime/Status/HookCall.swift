import Foundation

/// One call of a runtime's hook (`mosaic agent hook <runtime> <event>`), turned into the agent's
/// new state. The sidecar carries that state into the heartbeat at once.
public struct HookCall: Sendable {
    public var runtime: RuntimeKind
    public var event: String
    public var payload: Data

    public init(runtime: RuntimeKind, event: String, payload: Data) {
        self.runtime = runtime
        self.event = event
        self.payload = payload
    }

    func parsed() throws -> HookPayload {
        Runtimes.of(runtime).payloadSource == .none ? HookPayload() : try HookPayload.parse(payload)
    }

    /// The state change this call reports; `nil` when the event says nothing about state.
    public func update() throws -> StatusUpdate? {
        Runtimes.of(runtime).update(event: event, payload: try parsed())
    }

    /// Records the change for `agent` (and what the integration keeps for the sidecar beside
    /// it, in the same run directory); returns the new state, or `nil` when nothing changed.
    @discardableResult
    public func record(for agent: String, in store: RuntimeStateStore, now: Date = Date()) throws -> RuntimeState? {
        try AgentName.validate(agent)
        let integration = Runtimes.of(runtime)
        let payload = try parsed()
        let kept = integration.remember(event: event, payload: payload, files: AgentRuntimeFiles(runDirectory: store.directory, agent: agent))
        if !kept.isEmpty { try AgentRuntimeFiles(runDirectory: store.directory, agent: agent).write(kept) }
        guard let update = integration.update(event: event, payload: payload) else { return nil }
        return try store.apply(update, for: agent, now: now)
    }
}
