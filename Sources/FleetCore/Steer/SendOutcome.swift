import Foundation

/// What `send --verify` concluded. Never a guess presented as fact: without evidence either way
/// the verdict is `unverifiable`.
public enum Verdict: String, Sendable, Codable {
    /// The runtime acknowledged the message id in its heartbeat, or (runtimes that cannot
    /// acknowledge) the pane changed after Enter and no draft remains.
    case accepted
    /// Text sits unsubmitted in the input line: the message (not taken), or an operator's draft
    /// that made mosaic refuse to type.
    case draft
    /// The agent was not at its prompt in time; nothing was typed.
    case busy
    /// No evidence either way.
    case unverifiable
}

/// Options of one send.
public struct SendOptions: Sendable {
    /// Clear an operator's draft (the adapter's clear keys) instead of refusing; with an unknown
    /// input line, type without the draft check.
    public var force = false
    /// Press Enter after typing (`--no-submit` leaves the text for the operator).
    public var submit = true
    public var verify = false
    public var verifyTimeout: Duration = .seconds(5)
    /// How long to wait for the agent's prompt before the verdict is `busy`.
    public var readyTimeout: Duration = .seconds(10)
    public var lockTimeout: Duration = .seconds(30)
    /// How long the typed text may take to show in the input line before Enter.
    public var echoTimeout: Duration = .seconds(2)
    /// Heartbeat poll while verifying: a file read, cheap, so often.
    public var heartbeatPoll: Duration = .milliseconds(4)
    /// Screen poll (one tmux call each).
    public var screenPoll: Duration = .milliseconds(25)

    public init() {}
}

/// The result of one send, as `--json` prints it.
public struct SendOutcome: Sendable, Equatable, Codable {
    public var agent: String
    public var id: String
    /// `nil` when not verified (`send` without `--verify`).
    public var verdict: Verdict?
    /// Something was typed into the pane.
    public var typed: Bool
    /// Enter was pressed after the typed text.
    public var submitted: Bool
    public var delivery: Message.Delivery?
    public var bytes: Int
    /// The input-line shape recognised (`stub`, `shell`, `ipython`, …), if any.
    public var inputShape: String?
    /// An operator draft that `--force` cleared, kept so it is not lost.
    public var clearedDraft: String?
    /// One sentence: why this verdict.
    public var reason: String
    public var elapsedMs: Int

    public init(agent: String, id: String, verdict: Verdict?, typed: Bool, submitted: Bool, delivery: Message.Delivery?,
                bytes: Int, inputShape: String?, clearedDraft: String?, reason: String, elapsedMs: Int) {
        self.agent = agent
        self.id = id
        self.verdict = verdict
        self.typed = typed
        self.submitted = submitted
        self.delivery = delivery
        self.bytes = bytes
        self.inputShape = inputShape
        self.clearedDraft = clearedDraft
        self.reason = reason
        self.elapsedMs = elapsedMs
    }

    /// The `--json` document: these keys in this order, `null` where unknown.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(agent, forKey: .agent)
        try c.encode(id, forKey: .id)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(typed, forKey: .typed)
        try c.encode(submitted, forKey: .submitted)
        try c.encode(delivery, forKey: .delivery)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(inputShape, forKey: .inputShape)
        try c.encode(clearedDraft, forKey: .clearedDraft)
        try c.encode(reason, forKey: .reason)
        try c.encode(elapsedMs, forKey: .elapsedMs)
    }

    /// The one line a person reads.
    public var line: String {
        let head = verdict.map { "\($0.rawValue)" } ?? (submitted ? "sent (not verified)" : typed ? "typed" : "not sent")
        return "\(agent): \(head) · msg \(id) · \(elapsedMs) ms · \(reason)"
    }
}

extension Message.Delivery: Codable {}

/// Why a send could not be attempted at all.
public enum SendError: Error, Equatable, CustomStringConvertible {
    case paneDead(agent: String)
    case noResetCommand(agent: String, runtime: String)
    case copyModeStuck(agent: String)

    public var description: String {
        switch self {
        case .paneDead(let agent):
            return "agent \"\(agent)\"'s pane is dead (its runtime exited); restart it with `mosaic fleet up \(agent)`"
        case .noResetCommand(let agent, let runtime):
            return "agent \"\(agent)\" runs runtime \(runtime), which has no reset command; send the runtime's own command with `mosaic agent send`"
        case .copyModeStuck(let agent):
            return "agent \"\(agent)\"'s pane stays in copy mode (someone attached is scrolling?); nothing typed"
        }
    }
}
