import Foundation

/// The `fleet ps --json` document: an array of one object per roster agent (`"kind": "agent"`)
/// followed by the strays (`"kind": "stray"`). Scripts depend on its keys and their order
/// (pinned by the tests): every key is always there, `null` where a plane could not tell.
/// Written with `OrderedJSONEncoder`, read back with JSONDecoder into the same type.
public struct FleetDocument: Sendable, Equatable, Codable {
    public var entries: [FleetEntry]

    public init(entries: [FleetEntry]) { self.entries = entries }

    public init(_ snapshot: FleetSnapshot, includeStrays: Bool = true) {
        entries = snapshot.agents.map(FleetEntry.agent) + (includeStrays ? snapshot.strays.map(FleetEntry.stray) : [])
    }

    public var agents: [AgentRow] { entries.compactMap { if case .agent(let row) = $0 { row } else { nil } } }
    public var strays: [StrayRow] { entries.compactMap { if case .stray(let row) = $0 { row } else { nil } } }

    public init(from decoder: any Decoder) throws { entries = try decoder.singleValueContainer().decode([FleetEntry].self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }

    /// The document as `ps --json` prints it.
    public func rendered() throws -> String { try OrderedJSONEncoder().render(self) }

    /// Reads a `ps --json` document (this host's or another's).
    public static func decode(_ data: Data) throws -> FleetDocument { try JSONDecoder().decode(FleetDocument.self, from: data) }
}

/// One object of the document, told apart by its `kind`.
public enum FleetEntry: Sendable, Equatable, Codable {
    case agent(AgentRow)
    case stray(StrayRow)

    private enum Keys: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case AgentRow.kind: self = .agent(try AgentRow(from: decoder))
        case StrayRow.kind: self = .stray(try StrayRow(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container,
                                                   debugDescription: "kind \"\(kind)\" is neither \"agent\" nor \"stray\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .agent(let row): try row.encode(to: encoder)
        case .stray(let row): try row.encode(to: encoder)
        }
    }
}

// Each `encode(to:)` below writes its keys in the document's order and every optional with
// `encode` (not `encodeIfPresent`), so a missing value is an explicit `null`.

extension AgentRow: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, name, tenant_id, host, runtime, role, model, effort, systemdActive, systemdEnabled, systemdState, session,
             paneAlive, panePid, paneCommand, paneExitStatus, paneExitSignal, lastOutput, processCommand, processState, idleSeconds,
             heartbeat, driftFlag, bootEnableWarning, probe, runState, runtimeProcess, state, waitingFor, silentBusy, healthy, problems, lifecycle
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.kind, forKey: .kind)
        try c.encode(name, forKey: .name)
        try c.encode(tenant_id, forKey: .tenant_id)
        try c.encode(host, forKey: .host)
        try c.encode(runtime, forKey: .runtime)
        try c.encode(role, forKey: .role)
        try c.encode(model, forKey: .model)
        try c.encode(effort, forKey: .effort)
        try c.encode(systemdActive, forKey: .systemdActive)
        try c.encode(systemdEnabled, forKey: .systemdEnabled)
        try c.encode(systemdState, forKey: .systemdState)
        try c.encode(session, forKey: .session)
        try c.encode(paneAlive, forKey: .paneAlive)
        try c.encode(panePid, forKey: .panePid)
        try c.encode(paneCommand, forKey: .paneCommand)
        try c.encode(paneExitStatus, forKey: .paneExitStatus)
        try c.encode(paneExitSignal, forKey: .paneExitSignal)
        try c.encode(lastOutput, forKey: .lastOutput)
        try c.encode(processCommand, forKey: .processCommand)
        try c.encode(processState, forKey: .processState)
        try c.encode(idleSeconds, forKey: .idleSeconds)
        try c.encode(heartbeat, forKey: .heartbeat)
        try c.encode(driftFlag, forKey: .driftFlag)
        try c.encode(bootEnableWarning, forKey: .bootEnableWarning)
        try c.encode(probe, forKey: .probe)
        try c.encode(runState, forKey: .runState)
        try c.encode(runtimeProcess, forKey: .runtimeProcess)
        try c.encode(state, forKey: .state)
        try c.encode(waitingFor, forKey: .waitingFor)
        try c.encode(silentBusy, forKey: .silentBusy)
        try c.encode(healthy, forKey: .healthy)
        try c.encode(problems, forKey: .problems)
        try c.encode(lifecycle, forKey: .lifecycle)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        tenant_id = try c.decode(String.self, forKey: .tenant_id)
        host = try c.decode(String.self, forKey: .host)
        runtime = try c.decode(RuntimeKind.self, forKey: .runtime)
        role = try c.decodeIfPresent(String.self, forKey: .role)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        effort = try c.decodeIfPresent(String.self, forKey: .effort)
        systemdActive = try c.decodeIfPresent(Bool.self, forKey: .systemdActive)
        systemdEnabled = try c.decodeIfPresent(Bool.self, forKey: .systemdEnabled)
        systemdState = try c.decodeIfPresent(SystemdState.self, forKey: .systemdState)
        session = try c.decode(SessionState.self, forKey: .session)
        paneAlive = try c.decodeIfPresent(Bool.self, forKey: .paneAlive)
        panePid = try c.decodeIfPresent(Int32.self, forKey: .panePid)
        paneCommand = try c.decodeIfPresent(String.self, forKey: .paneCommand)
        paneExitStatus = try c.decodeIfPresent(Int32.self, forKey: .paneExitStatus)
        paneExitSignal = try c.decodeIfPresent(Int32.self, forKey: .paneExitSignal)
        lastOutput = try c.decodeIfPresent([String].self, forKey: .lastOutput)
        processCommand = try c.decodeIfPresent(String.self, forKey: .processCommand)
        processState = try c.decodeIfPresent(ProcessState.self, forKey: .processState)
        idleSeconds = try c.decodeIfPresent(Int.self, forKey: .idleSeconds)
        heartbeat = try c.decode(HeartbeatView.self, forKey: .heartbeat)
        driftFlag = try c.decodeIfPresent(Bool.self, forKey: .driftFlag)
        bootEnableWarning = try c.decodeIfPresent(Bool.self, forKey: .bootEnableWarning)
        probe = try c.decodeIfPresent(ProbeOutcome.self, forKey: .probe)
        runState = try c.decodeIfPresent(RunState.self, forKey: .runState)
        runtimeProcess = try c.decodeIfPresent(RuntimeProcess.self, forKey: .runtimeProcess)
        state = try c.decodeIfPresent(ReportedState.self, forKey: .state)
        waitingFor = try c.decodeIfPresent(WaitingFor.self, forKey: .waitingFor)
        silentBusy = try c.decode(Bool.self, forKey: .silentBusy)
        healthy = try c.decode(Bool.self, forKey: .healthy)
        // The sentence shows the quiet time as the table does (`2m`); the row's idle time is
        // the exact figure it was made from.
        let idle = idleSeconds
        problems = try c.decode([Problem].self, forKey: .problems).map { problem in
            if case .silentBusy(let shown) = problem, let idle, Duration.compact(seconds: idle) == Duration.compact(seconds: shown) {
                return .silentBusy(seconds: idle)
            }
            return problem
        }
        lifecycle = try c.decodeIfPresent(AgentLifecycle.self, forKey: .lifecycle)
    }
}

extension StrayRow: Codable {
    enum CodingKeys: String, CodingKey { case kind, name, tenant_id, host, paneAlive, panePid, paneCommand, idleSeconds }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.kind, forKey: .kind)
        try c.encode(name, forKey: .name)
        try c.encode(tenant_id, forKey: .tenant_id)
        try c.encode(host, forKey: .host)
        try c.encode(paneAlive, forKey: .paneAlive)
        try c.encode(panePid, forKey: .panePid)
        try c.encode(paneCommand, forKey: .paneCommand)
        try c.encode(idleSeconds, forKey: .idleSeconds)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        tenant_id = try c.decode(String.self, forKey: .tenant_id)
        host = try c.decode(String.self, forKey: .host)
        paneAlive = try c.decode(Bool.self, forKey: .paneAlive)
        panePid = try c.decodeIfPresent(Int32.self, forKey: .panePid)
        paneCommand = try c.decode(String.self, forKey: .paneCommand)
        idleSeconds = try c.decodeIfPresent(Int.self, forKey: .idleSeconds)
    }
}

extension HeartbeatView: Codable {
    enum CodingKeys: String, CodingKey { case ts, pid, status, health, ageMs }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ts, forKey: .ts)
        try c.encode(pid, forKey: .pid)
        try c.encode(status, forKey: .status)
        try c.encode(health, forKey: .health)
        try c.encode(ageMs, forKey: .ageMs)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(ts: try c.decodeIfPresent(String.self, forKey: .ts), pid: try c.decodeIfPresent(Int32.self, forKey: .pid),
                  status: try c.decodeIfPresent(ReportedState.self, forKey: .status), health: try c.decode(HeartbeatHealth.self, forKey: .health),
                  ageMs: try c.decodeIfPresent(Int.self, forKey: .ageMs))
    }
}

extension ProbeOutcome: Codable {
    enum CodingKeys: String, CodingKey { case nonce, answered, latencyMs }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nonce, forKey: .nonce)
        try c.encode(answered, forKey: .answered)
        try c.encode(latencyMs, forKey: .latencyMs)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(nonce: try c.decode(String.self, forKey: .nonce), answered: try c.decode(Bool.self, forKey: .answered),
                  latencyMs: try c.decodeIfPresent(Int.self, forKey: .latencyMs))
    }
}
