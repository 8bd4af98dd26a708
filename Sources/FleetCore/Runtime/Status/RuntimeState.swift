import Foundation

/// What a runtime last said about itself, through a hook or an event file it writes: the state
/// its heartbeat carries. Kept apart from the heartbeat so the heartbeat has one writer (the
/// sidecar, which vouches that the process is alive) and a hook can never refresh it by itself.
public struct RuntimeState: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Working on a turn.
        case busy
        /// Its turn is over and it waits for a person: for the next message or for an approval.
        case waiting
        /// Alive; nothing more is known (no report yet, or the runtime cannot tell).
        case ok
    }

    public enum WaitingFor: String, Sendable, CaseIterable {
        case input, approval
    }

    public var status: Status
    public var waitingFor: WaitingFor?
    /// The id of the last message the runtime acknowledged (`[mosaic msg=<id> …]`), if any.
    public var ack: String?
    /// What produced this state, `<runtime>:<event>` (for people reading the file).
    public var event: String
    public var ts: Date

    public init(status: Status, waitingFor: WaitingFor? = nil, ack: String? = nil, event: String, ts: Date) {
        self.status = status
        self.waitingFor = status == .waiting ? waitingFor : nil
        self.ack = ack
        self.event = event
        self.ts = ts
    }

    /// The heartbeat keys beyond `status` and `ack` that carry this state (protocol v1 ignores
    /// unknown keys): `waiting=input|approval` while waiting.
    public var heartbeatExtra: [(String, String)] {
        waitingFor.map { [("waiting", $0.rawValue)] } ?? []
    }

    public func serialized() -> String {
        var lines = ["ts=\(Timestamp.format(ts))", "status=\(status.rawValue)", "event=\(event)"]
        if let waitingFor { lines.append("waiting=\(waitingFor.rawValue)") }
        if let ack { lines.append("ack=\(ack)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `nil` for a file without a valid `ts` or `status`.
    public static func parse(_ text: String) -> RuntimeState? {
        let values = KeyValueLines.values(text)
        guard let ts = values["ts"].flatMap(Timestamp.parse), let status = values["status"].flatMap(Status.init) else { return nil }
        return RuntimeState(status: status, waitingFor: values["waiting"].flatMap(WaitingFor.init),
                            ack: values["ack"].flatMap { $0.isEmpty ? nil : $0 }, event: values["event"] ?? "", ts: ts)
    }
}

/// The effect of one hook call or runtime event: a new status, a message to acknowledge, or both.
/// `nil` fields leave what was there.
public struct StatusUpdate: Sendable, Equatable {
    public var status: RuntimeState.Status?
    public var waitingFor: RuntimeState.WaitingFor?
    /// A message id the runtime has taken in, where a hook sees the submitted prompt (Claude Code's
    /// `UserPromptSubmit`); the sidecar carries it into the heartbeat as `ack=`.
    public var ack: String?
    public var event: String
    /// A report that cannot end an open approval prompt: it leaves a waiting-for-approval state
    /// as it is (codex: a turn on another thread, its conversation naming, completes while the
    /// main turn waits for the operator's approval; measured under load).
    public var yieldsToApproval = false

    public init(status: RuntimeState.Status?, waitingFor: RuntimeState.WaitingFor? = nil, ack: String? = nil, event: String) {
        self.status = status
        self.waitingFor = waitingFor
        self.ack = ack
        self.event = event
    }

    public static func busy(_ event: String) -> StatusUpdate { StatusUpdate(status: .busy, event: event) }
    public static func waiting(_ event: String, for what: RuntimeState.WaitingFor) -> StatusUpdate {
        StatusUpdate(status: .waiting, waitingFor: what, event: event)
    }
    public static func ok(_ event: String) -> StatusUpdate { StatusUpdate(status: .ok, event: event) }

    /// This update, made to leave an open approval prompt's state alone.
    public func yieldingToApproval() -> StatusUpdate {
        var update = self
        update.yieldsToApproval = true
        return update
    }

    /// The state after this update, given the one before (which may be absent).
    public func applied(to previous: RuntimeState?, now: Date) -> RuntimeState {
        if yieldsToApproval, let previous, previous.status == .waiting, previous.waitingFor == .approval { return previous }
        let newStatus = status ?? previous?.status ?? .ok
        let newWaiting = status == nil ? previous?.waitingFor : waitingFor
        return RuntimeState(status: newStatus, waitingFor: newWaiting, ack: ack ?? previous?.ack, event: event, ts: now)
    }
}
