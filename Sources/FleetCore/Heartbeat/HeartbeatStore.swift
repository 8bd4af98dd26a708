import Foundation

/// The run directory: one `<agent>.hb` per agent, written atomically, and `<agent>.probe` requests.
public struct HeartbeatStore: Sendable {
    public let directory: String
    public let host: any Host

    public init(directory: String, host: any Host = LocalHost()) {
        self.directory = directory
        self.host = host
    }

    public func heartbeatPath(_ agent: String) -> String { "\(directory)/\(agent).hb" }
    public func probePath(_ agent: String) -> String { "\(directory)/\(agent).probe" }
    /// Held by `agent send` from the draft check until the verdict (see FileLock).
    public func sendLockPath(_ agent: String) -> String { "\(directory)/\(agent).send.lock" }

    public func read(_ agent: String) -> Heartbeat? {
        host.readFile(heartbeatPath(agent)).flatMap(Heartbeat.parse)
    }

    /// Replaces the heartbeat atomically: readers see the old file or the new one, never a half.
    public func write(_ heartbeat: Heartbeat, for agent: String) throws {
        try AgentName.validate(agent)
        for value in [heartbeat.status, heartbeat.nonce ?? "", heartbeat.ack ?? ""] + heartbeat.extra.map(\.1)
        where value.contains("\n") || value.contains("\r") {
            throw FileIO.Failure(path: heartbeatPath(agent), reason: "a heartbeat value may not contain a line break")
        }
        try host.writeFile(heartbeat.serialized(), to: heartbeatPath(agent), mode: 0o600)
    }

    /// Asks the agent for a fresh heartbeat that echoes `nonce`.
    public func requestProbe(_ agent: String, nonce: String, now: Date? = nil) throws {
        let now = now ?? host.now()
        try host.writeFile("nonce=\(nonce)\nts=\(Timestamp.format(now))\n", to: probePath(agent), mode: 0o600)
    }

    /// The nonce of the pending probe request, if any.
    public func pendingProbe(_ agent: String) -> String? {
        guard let text = host.readFile(probePath(agent)) else { return nil }
        return KeyValueLines.values(text)["nonce"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Removes what the agent left in the run directory (heartbeat, probe request, send lock).
    public func remove(_ agent: String) {
        host.removeFile(heartbeatPath(agent))
        host.removeFile(probePath(agent))
        host.removeFile(sendLockPath(agent))
    }

    public func clearProbe(_ agent: String) { host.removeFile(probePath(agent)) }
}
