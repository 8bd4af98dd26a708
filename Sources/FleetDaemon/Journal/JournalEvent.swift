import FleetCore
import Foundation

/// What happened, as the journal names it. A struct over its raw value rather than a closed enum:
/// a journal outlives binaries, and a row written by a newer mosaic must still be readable.
public struct EventKind: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    public static let daemonStarted = EventKind(rawValue: "daemon-started")
    /// The first snapshot after start: the agents that already ran are adopted, never restarted.
    public static let daemonAdopted = EventKind(rawValue: "daemon-adopted")
    public static let daemonStopped = EventKind(rawValue: "daemon-stopped")
    /// The agent's pane is alive where it was not (dead, missing, no server) in the previous snapshot.
    public static let agentStarted = EventKind(rawValue: "agent-started")
    /// The agent's pane died: exit status or signal, last output line.
    public static let agentExited = EventKind(rawValue: "agent-exited")
    /// The agent's session disappeared (stopped, or the tmux server went away).
    public static let agentVanished = EventKind(rawValue: "agent-vanished")
    /// What the heartbeat reports changed (ok → busy → waiting …, or healthy → stale).
    public static let stateChanged = EventKind(rawValue: "state-changed")
    public static let startedByUser = EventKind(rawValue: "started-by-user")
    public static let stoppedByUser = EventKind(rawValue: "stopped-by-user")
    public static let restartedByUser = EventKind(rawValue: "restarted-by-user")
    /// Supervision (the roster's restart policies, run by the daemon).
    public static let agentAdopted = EventKind(rawValue: "agent-adopted")
    public static let agentRestarted = EventKind(rawValue: "agent-restarted")
    public static let agentBackoff = EventKind(rawValue: "agent-backoff")
    /// Crash loop: no more restarts until `fleet up NAME`.
    public static let agentFailed = EventKind(rawValue: "agent-failed")
    public static let agentHung = EventKind(rawValue: "agent-hung")
    public static let agentRecovered = EventKind(rawValue: "agent-recovered")
    public static let massDeath = EventKind(rawValue: "mass-death")
    public static let recoveryComplete = EventKind(rawValue: "recovery-complete")
    /// The journal file could not be read as a database and was moved aside.
    public static let journalCorrupt = EventKind(rawValue: "journal-corrupt")
    /// The journal file was deleted under the daemon; a new one was started.
    public static let journalRecreated = EventKind(rawValue: "journal-recreated")
    /// `agent send` / `agent reset`: the message id, the verdict (if verified) and its size, never its text.
    public static let messageSent = EventKind(rawValue: "message-sent")
    /// `fleet ps --probe`: an agent did not answer its nonce in time.
    public static let probeFailed = EventKind(rawValue: "probe-failed")

    /// The kinds this binary writes (for `--kind` help and validation).
    public static let known: [EventKind] = [
        .daemonStarted, .daemonAdopted, .daemonStopped, .agentStarted, .agentExited, .agentVanished, .stateChanged,
        .startedByUser, .stoppedByUser, .restartedByUser, .agentAdopted, .agentRestarted, .agentBackoff, .agentFailed,
        .agentHung, .agentRecovered, .massDeath, .recoveryComplete, .journalCorrupt, .journalRecreated, .messageSent, .probeFailed,
    ]
}

/// The kind-specific facts of an event; fields a kind does not use stay `nil` (and are omitted
/// from the stored JSON).
public struct EventDetail: Codable, Equatable, Sendable {
    public var status: Int32?
    public var signal: String?
    public var lastOutput: String?
    public var from: String?
    public var to: String?
    public var pid: Int32?
    public var count: Int?
    public var path: String?
    public var via: String?
    public var message: String?
    /// A sent message's id, verdict (`accepted`, `draft`, `busy`, `unverifiable`; absent unverified) and bytes.
    public var messageId: String?
    public var verdict: String?
    public var bytes: Int?

    public init(status: Int32? = nil, signal: String? = nil, lastOutput: String? = nil, from: String? = nil,
                to: String? = nil, pid: Int32? = nil, count: Int? = nil, path: String? = nil, via: String? = nil,
                message: String? = nil, messageId: String? = nil, verdict: String? = nil, bytes: Int? = nil) {
        self.messageId = messageId
        self.verdict = verdict
        self.bytes = bytes
        self.status = status
        self.signal = signal
        self.lastOutput = lastOutput
        self.from = from
        self.to = to
        self.pid = pid
        self.count = count
        self.path = path
        self.via = via
        self.message = message
    }

    public var isEmpty: Bool { self == EventDetail() }
}

/// One row of the journal, and the one JSON document `fleet events --json` and the API print per event.
public struct JournalEvent: Codable, Equatable, Sendable {
    /// Assigned by the journal; `nil` before the row is written.
    public var id: Int64?
    public var ts: Date
    public var tenant_id: String
    public var host: String
    public var agent: String?
    public var kind: EventKind
    public var detail: EventDetail
    /// Who caused it: the OS user for CLI verbs, `daemon` for what the daemon observed.
    public var actor: String?

    public init(id: Int64? = nil, ts: Date, tenant_id: String, host: String, agent: String? = nil, kind: EventKind,
                detail: EventDetail = EventDetail(), actor: String? = nil) {
        self.id = id
        self.ts = ts
        self.tenant_id = tenant_id
        self.host = host
        self.agent = agent
        self.kind = kind
        self.detail = detail
        self.actor = actor
    }

    enum CodingKeys: String, CodingKey { case id, ts, tenant_id, host, agent, kind, detail, actor }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(Int64.self, forKey: .id)
        let text = try c.decode(String.self, forKey: .ts)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: .ts, in: c, debugDescription: "not an ISO 8601 UTC time: \(text)")
        }
        ts = date
        tenant_id = try c.decode(String.self, forKey: .tenant_id)
        host = try c.decode(String.self, forKey: .host)
        agent = try c.decodeIfPresent(String.self, forKey: .agent)
        kind = try c.decode(EventKind.self, forKey: .kind)
        detail = try c.decodeIfPresent(EventDetail.self, forKey: .detail) ?? EventDetail()
        actor = try c.decodeIfPresent(String.self, forKey: .actor)
    }

    /// Every key is written, `null` where unknown: the `--json` contract never omits a field.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(Timestamp.format(ts), forKey: .ts)
        try c.encode(tenant_id, forKey: .tenant_id)
        try c.encode(host, forKey: .host)
        try c.encode(agent, forKey: .agent)
        try c.encode(kind, forKey: .kind)
        try c.encode(detail, forKey: .detail)
        try c.encode(actor, forKey: .actor)
    }

    /// One compact JSON line (the JSON-lines and Server-Sent-Events form).
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value of plain fields cannot fail.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func decode(jsonLine: some DataProtocol) throws -> JournalEvent {
        try JSONDecoder().decode(JournalEvent.self, from: Data(jsonLine))
    }
}
