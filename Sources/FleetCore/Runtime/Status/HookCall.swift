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

    /// The state change this call reports; `nil` when the event says nothing about state.
    public func update() throws -> StatusUpdate? {
        let integration = RuntimeIntegrations.of(runtime)
        let parsed = integration.payloadSource == .none ? HookPayload() : try HookPayload.parse(payload)
        return integration.update(event: event, payload: parsed)
    }

    /// Records the change for `agent`; returns the new state, or `nil` when nothing changed.
    @discardableResult
    public func record(for agent: String, in store: RuntimeStateStore, now: Date = Date()) throws -> RuntimeState? {
        guard let update = try update() else { return nil }
        return try store.apply(update, for: agent, now: now)
    }
}
