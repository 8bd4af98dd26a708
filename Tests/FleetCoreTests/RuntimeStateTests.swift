import Foundation
import Testing
@testable import FleetCore

@Suite("runtime state: the file hooks write and the sidecar reads")
struct RuntimeStateTests {
    func tempDirectory() throws -> String {
        var template = Array("\(NSTemporaryDirectory())/mosaic-state.XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw FileIO.Failure(path: "tmp", reason: "mkdtemp failed") }
        return String(cString: dir)
    }

    @Test("serialize then parse; waiting carries what it waits for; other statuses drop it")
    func roundTrip() throws {
        let state = RuntimeState(status: .waiting, waitingFor: .approval, ack: "m-1", event: "claude:Notification",
                                 ts: Date(timeIntervalSince1970: 1_800_000_000.25))
        #expect(RuntimeState.parse(state.serialized()) == state)
        #expect(state.heartbeatExtra.map { "\($0.0)=\($0.1)" } == ["waiting=approval"])
        #expect(RuntimeState(status: .busy, waitingFor: .input, event: "x", ts: Date()).waitingFor == nil)
        #expect(RuntimeState.parse("status=busy\n") == nil, "no ts, no state")
        #expect(RuntimeState.parse("ts=2026-01-01T00:00:00Z\nstatus=dancing\n") == nil)
    }

    @Test("updates keep what they do not change: an acknowledged id survives later status changes")
    func updatesKeepAck() throws {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = RuntimeStateStore(directory: dir)
        try store.apply(StatusUpdate(status: .busy, ack: "m-7", event: "claude:UserPromptSubmit"), for: "a1")
        try store.apply(.waiting("claude:Stop", for: .input), for: "a1")
        let state = try #require(store.read("a1"))
        #expect(state.status == .waiting && state.waitingFor == .input && state.ack == "m-7" && state.event == "claude:Stop")
        try store.apply(StatusUpdate(status: nil, event: "x"), for: "a1")
        #expect(store.read("a1")?.waitingFor == .input, "no status: the status and its reason stay")
        #expect(throws: RosterError.self) { try store.apply(.ok("x"), for: "../evil") }
        #expect(throws: FileIO.Failure.self) { try store.apply(.ok("x\nstatus=busy"), for: "a1") }
    }

    @Test("concurrent hooks never lose an update: each is applied under the lock")
    func concurrent() async throws {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = RuntimeStateStore(directory: dir)
        try store.apply(StatusUpdate(status: .busy, ack: "m-1", event: "first"), for: "a1")
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask { _ = try? store.apply(i % 2 == 0 ? .busy("b\(i)") : .waiting("w\(i)", for: .input), for: "a1") }
            }
        }
        #expect(store.read("a1")?.ack == "m-1")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == ["a1.state", "a1.state.lock"], "no temp files left: \(left)")
    }

    @Test("a hook call is recorded; one that says nothing about state writes nothing")
    func hookCall() throws {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = RuntimeStateStore(directory: dir)
        let none = try HookCall(runtime: .claude, event: "PreCompact", payload: Data(#"{"hook_event_name":"PreCompact"}"#.utf8))
            .record(for: "a1", in: store)
        #expect(none == nil && store.read("a1") == nil)
        let state = try HookCall(runtime: .pi, event: "agent_start", payload: Data(#"{"type":"agent_start"}"#.utf8)).record(for: "a1", in: store)
        #expect(state?.status == .busy)
    }

    @Test("an agent's runtime files are all removed, whichever runtime wrote them")
    func removeAll() throws {
        let dir = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = AgentRuntimeFiles(runDirectory: dir, agent: "a1")
        let hook = HookCommand(mosaic: "/m", home: "/h", agent: "a1")
        try files.write(OpencodeRuntime().launch(IntegrationContext(agent: AgentSpec(name: "a1", runtime: .opencode), files: files, hook: hook)).files)
        try files.write(ClaudeRuntime().launch(IntegrationContext(agent: AgentSpec(name: "a1", runtime: .claude), files: files, hook: hook)).files)
        try RuntimeStateStore(directory: dir).apply(.ok("x"), for: "a1")
        try FileIO.writeAtomically("x", to: dir + "/a10.state")
        files.removeAll()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a10.state"], "another agent's files stay")
    }
}
