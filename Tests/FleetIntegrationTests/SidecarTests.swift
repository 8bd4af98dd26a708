import Foundation
import Testing
@testable import FleetCore

/// The sidecar against a real process (no tmux, so a SIGSTOP sticks): it beats only while the
/// process runs, answers probes, carries reported state at once, and leaves when the process does.
@Suite("sidecar", .serialized)
struct SidecarTests {
    @Test("beats while the process runs, not while it is stopped; carries state and answers probes; exits when it is gone")
    func lifecycle() async throws {
        let home = try TestFleet.makeTempDirectory("sidecar")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let run = FleetPaths(home: home).runDirectory
        try FileIO.makeDirectory(run, mode: 0o700)
        let child = try ChildProcess(Invocation("/bin/sleep", ["60"]))
        defer { child.signal(SIGKILL); child.wait() }
        let pid = child.pid
        let heartbeats = HeartbeatStore(directory: run), states = RuntimeStateStore(directory: run)
        let adapter = SleepRuntime()
        let sidecar = RuntimeSidecar(options: .init(agent: "s1", pid: pid, adapter: adapter, interval: .seconds(1),
                                                    heartbeats: heartbeats, states: states, poll: .milliseconds(10)))
        let exit = Box<RuntimeSidecar.Exit>()
        let thread = Thread { exit.set(sidecar.run()) }
        thread.start()
        defer { sidecar.stop() }

        try await until("the first heartbeat") { heartbeats.read("s1")?.pid == pid }
        try states.apply(.waiting("test:asked", for: .approval), for: "s1")
        try await until("the reported state reaches the heartbeat") {
            heartbeats.read("s1").map { $0.status == "waiting" && $0.extra.contains { $0 == ("waiting", "approval") } } == true
        }
        try heartbeats.requestProbe("s1", nonce: "n-1")
        try await until("the probe is answered") { heartbeats.read("s1")?.nonce == "n-1" }

        kill(pid, SIGSTOP)
        try await until("the process is stopped") { ProcessTable().sample(pid)?.isStopped == true }
        let last = try #require(heartbeats.read("s1")?.ts)
        try heartbeats.requestProbe("s1", nonce: "n-2")
        try await until("two intervals pass", timeout: .seconds(3)) { Date().timeIntervalSince(last) > 2.2 }
        #expect(heartbeats.read("s1")?.ts == last, "no heartbeat while stopped, not even for a probe")
        kill(pid, SIGCONT)
        try await until("beats again at once, answering the pending probe") { heartbeats.read("s1")?.nonce == "n-2" }

        kill(pid, SIGKILL)
        child.wait()
        try await until("the sidecar leaves") { exit.value == .processGone }
        let after = heartbeats.read("s1")?.ts
        try await Task.sleep(for: .milliseconds(100))
        #expect(heartbeats.read("s1")?.ts == after, "nothing refreshes the heartbeat of a process that is gone")
    }

    @Test("a pid that is already gone: the sidecar leaves at once and writes nothing")
    func gone() throws {
        let home = try TestFleet.makeTempDirectory("sidecar")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = HeartbeatStore(directory: home)
        let sidecar = RuntimeSidecar(options: .init(agent: "s1", pid: Int32.max - 1, adapter: Runtimes.of(.aider), interval: .seconds(1),
                                                    heartbeats: store, states: RuntimeStateStore(directory: home)))
        #expect(sidecar.run() == .processGone)
        #expect(store.read("s1") == nil)
    }

    func until(_ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        // Checked once more after the deadline: a busy machine may wake this loop late, not the condition.
        while true {
            if condition() { return }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out after \(timeout) waiting until \(what)")
        throw CancellationError()
    }
}

final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    func set(_ value: T) { lock.withLock { stored = value } }
    var value: T? { lock.withLock { stored } }
}

/// A runtime that runs as `sleep`, so the sidecar can watch a plain child process.
private struct SleepRuntime: Runtime {
    var kind: RuntimeKind { .aider }
    var binary: String? { nil }
    var expectedCommands: Set<String>? { ["sleep"] }
    var inputShapes: [InputShape] { [] }
    var resetCommand: String? { nil }
    func launch(_ context: IntegrationContext) -> LaunchAdditions { LaunchAdditions() }
    func update(event: String, payload: HookPayload) -> StatusUpdate? { nil }
}
