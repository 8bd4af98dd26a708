import Foundation
import Testing
import Synchronization
@testable import FleetCore

/// The core against the fake host: every plane read, every file written, nothing spawned.
@Suite("the host seam")
struct HostTests {
    static let run = "/home/u/.config/mosaic/fleet/run"

    func fleet(_ host: FakeHost) -> FleetContext {
        FleetContext(paths: FleetPaths(home: "/home/u/.config/mosaic"), host: host, mosaicExecutable: "/opt/mosaic")
    }

    @Test("the daemon's roster cache parses again only when the text changed, and never keeps a bad roster")
    func rosterCache() throws {
        let host = FakeHost { _ in ProcessResult(status: 0, standardOutput: Data()) }
        let context = fleet(host)
        let cache = RosterCache()
        let yaml = "version: 1\nagents:\n  - name: a1\n    runtime: stub\n"
        host.put(context.paths.roster, yaml)
        let first = try context.loadRoster(cache: cache)
        #expect(try context.loadRoster(cache: cache) == first)
        #expect(cache.roster(for: yaml) == first, "kept for the same text")
        host.put(context.paths.roster, yaml + "  - name: a2\n    runtime: stub\n")
        #expect(try context.loadRoster(cache: cache).agents.map(\.name) == ["a1", "a2"], "a changed file is parsed again")
        host.put(context.paths.roster, "version: 1\nagents: [\n")
        #expect(throws: RosterError.self) { try context.loadRoster(cache: cache) }
        #expect(throws: RosterError.self, "a bad roster is reported each time, not served from the cache") { try context.loadRoster(cache: cache) }
        host.removeFile(context.paths.roster)
        #expect(throws: RosterError.self) { try context.loadRoster(cache: cache) }
    }

    @Test("fleet ps reads every plane through the host: one tmux call, one systemctl call, files and /proc in memory")
    func planesThroughTheHost() async throws {
        let pane = ["a1", "0", "%1", "42", "0", "", "", "1800000000", "0", "200", "50", "mosaic"].joined(separator: "\t")
        let host = FakeHost { invocation in
            if invocation.executable == "tmux" { return ProcessResult(status: 0, standardOutput: Data((pane + "\n").utf8)) }
            return ProcessResult(status: 0, standardOutput: Data("mosaic-agent@a1.service loaded active running Mosaic\n".utf8))
        }
        host.put("/run/user/1000/systemd/private", "")
        host.put("/home/u/.config/systemd/user/default.target.wants/mosaic-agent@a1.service", "")
        host.put("/var/lib/systemd/linger/u", "")
        host.addProcess(pid: 42, comm: "mosaic", children: [43])
        host.addProcess(pid: 43, comm: "sleep", state: "T", ppid: 42)
        let context = fleet(host)
        try context.heartbeats.host.makeDirectory(Self.run, mode: 0o700)
        try context.heartbeats.write(Heartbeat(ts: host.now(), pid: 42, status: "busy"), for: "a1")

        let roster = Roster(tenant: "t", host: "fakehost", agents: [AgentSpec(name: "a1", runtime: .stub)])
        let readings = try await PlaneReader(context: context).read(roster: roster)

        #expect(host.invocations.map(\.executable).sorted() == ["systemctl", "tmux"])
        #expect(host.invocations.first { $0.executable == "tmux" }?.arguments.prefix(2) == ["-L", roster.socketName])
        #expect(readings.panes?.map(\.paneId) == ["%1"])
        #expect(readings.heartbeats["a1"]?.status == "busy")
        #expect(readings.processes[42]?.descendants.map(\.comm) == ["sleep"])
        #expect(readings.processes[42]?.descendants.first?.isStopped == true)
        #expect(readings.enabledUnits == ["mosaic-agent@a1.service"])
        #expect(readings.linger == true)
        #expect(readings.units?.map(\.name) == ["mosaic-agent@a1.service"])
    }

    @Test("the context takes user, host name, environment and unit directory from the host")
    func contextFromHost() {
        let host = FakeHost(hostName: "box")
        let context = fleet(host)
        #expect(context.userName == "u")
        #expect(context.hostName == "box")
        #expect(context.unitDirectory == "/home/u/.config/systemd/user")
        #expect(context.environment["XDG_RUNTIME_DIR"] == "/run/user/1000")
        #expect(context.rosterDefaults.tenant == "u" && context.rosterDefaults.host == "box")
        #expect(!context.lingerEnabled)
        #expect(!context.systemctl.isReachable, "no manager socket on this host")
    }

    @Test("a probe is answered as soon as the heartbeat file changes: the prober waits on the host's watch")
    func probeWakesOnChange() async throws {
        let host = FakeHost()
        let store = HeartbeatStore(directory: Self.run, host: host)
        try host.makeDirectory(Self.run, mode: 0o700)
        let prober = Prober(store: store, agents: ["a1", "a2"])
        try await prober.send(now: host.now())
        let nonce = try #require(store.pendingProbe("a1"))
        // Answer a1 only, from another task, after the prober has started waiting.
        let answer = Task {
            try await Task.sleep(for: .milliseconds(50))
            try store.write(Heartbeat(ts: host.now(), pid: 7, nonce: nonce), for: "a1")
        }
        let outcomes = await prober.collect(timeout: .seconds(1))
        try await answer.value
        #expect(outcomes["a1"]?.answered == true)
        #expect(outcomes["a2"]?.answered == false)
        #expect(store.pendingProbe("a1") == nil && store.pendingProbe("a2") == nil, "requests are removed")
        #expect(host.invocations.isEmpty, "nothing spawned")
    }

    @Test("units are installed into the host's unit directory, and reloaded once")
    func unitsInMemory() async throws {
        let host = FakeHost()
        host.put("/usr/bin/tmux", "")
        let context = fleet(host)
        let roster = Roster(tenant: "t", host: "h", agents: [AgentSpec(name: "a1", runtime: .stub)])
        let installer = UnitInstaller(context: context, roster: roster)
        #expect(!installer.isInstalled)
        let written = try await installer.install()
        #expect(written == [FleetFiles.agentTemplate, FleetFiles.daemonUnit, FleetFiles.holderUnit].sorted())
        #expect(installer.isInstalled)
        #expect(host.readFile("/home/u/.config/systemd/user/\(FleetFiles.holderUnit)")?.contains("/usr/bin/tmux -L") == true)
        #expect(host.invocations.map(\.arguments) == [["--user", "--no-pager", "daemon-reload"]])
        #expect(try await installer.install().isEmpty, "installing twice writes nothing")
        #expect(host.invocations.count == 1)
    }

    @Test("a runtime's binary is found on the host, and a missing workdir is named")
    func launchLooksUpOnTheHost() throws {
        let host = FakeHost(environment: ["MOSAIC_RUNTIME_BIN": "/opt/rt"])
        host.put("/opt/rt/claude", "")
        let launch = RuntimeLaunch(context: fleet(host), roster: Roster(tenant: "t", host: "h", agents: []))
        let command = try launch.command(for: AgentSpec(name: "c1", runtime: .claude))
        guard case .shell(let line) = command else { Issue.record("expected a shell line"); return }
        #expect(line.contains("exec /opt/rt/claude"))
        #expect(throws: LaunchError.self) { try launch.session(for: AgentSpec(name: "c1", runtime: .claude, workdir: "/nowhere")) }
    }

    @Test("a role's persona reaches each runtime its own way, from the persona file, never typed; no file, no flag")
    func personaReachesTheLaunch() throws {
        let host = FakeHost(environment: ["MOSAIC_RUNTIME_BIN": "/opt/rt"])
        for binary in ["claude", "codex", "pi", "aider"] { host.put("/opt/rt/\(binary)", "") }
        host.put("/home/u/.config/mosaic/roles/scribe.yaml", "summary: s\ntools: [Read, Grep]\npersona: |\n  You keep the minutes.\n")
        let file = "\(Self.run)/a1.persona.md"
        let launch = RuntimeLaunch(context: fleet(host), roster: Roster(tenant: "t", host: "h", agents: []))
        func line(_ agent: AgentSpec) throws -> String {
            guard case .shell(let line) = try launch.command(for: agent) else { Issue.record("expected a shell line"); return "" }
            return line
        }
        #expect(!(try line(AgentSpec(name: "a1", runtime: .claude, role: "scribe"))).contains("--append-system-prompt-file"),
                "no persona file written: nothing to pass")
        host.put(file, "You keep the minutes.\n")
        let claude = try line(AgentSpec(name: "a1", runtime: .claude, role: "scribe"))
        #expect(claude.contains("--append-system-prompt-file \(file) --allowed-tools Read,Grep"), "\(claude)")
        #expect(try line(AgentSpec(name: "a1", runtime: .codex, role: "scribe")).contains("-c 'developer_instructions=\"You keep the minutes.\\n\"'"))
        #expect(try line(AgentSpec(name: "a1", runtime: .pi, role: "scribe")).contains("--append-system-prompt \(file) --tools read,grep"))
        #expect(try line(AgentSpec(name: "a1", runtime: .aider, role: "scribe")).hasSuffix("--read \(file)"))
        #expect(!(try line(AgentSpec(name: "a1", runtime: .claude))).contains("--append-system-prompt-file"), "no role, no persona")
        let custom = AgentSpec(name: "a1", runtime: .custom, command: "my-agent --flag", role: "scribe")
        #expect(try line(custom).hasSuffix("exec my-agent --flag"), "a roster command is left as written")
        #expect(launch.environment(for: custom).contains { $0 == (PersonaDelivery.personaFileVariable, file) }, "and told where the file is")
    }

    @Test("stopping a sidecar signals the recorded process only if it is still the same one")
    func sidecarStop() throws {
        let host = FakeHost()
        let files = AgentRuntimeFiles(runDirectory: Self.run, agent: "a1")
        host.addProcess(pid: 90, comm: "mosaic", startTime: 555)
        host.put(files.sidecarPid, SidecarRecord(pid: 90, startTime: 554).serialized)
        files.removeAll(host: host)
        #expect(host.signals.isEmpty, "another process now has that pid")
        host.put(files.sidecarPid, SidecarRecord(pid: 90, startTime: 555).serialized)
        files.removeAll(host: host)
        #expect(host.signals.map(\.0) == [90] && host.signals.map(\.1) == [SIGTERM])
        #expect(!host.fileExists(files.sidecarPid))
    }

    @Test("a tmux socket by path is addressed with -S; a default socket is refused either way")
    func socketByPath() throws {
        let tmux = Tmux(socket: try TmuxSocket(path: "/tmp/tmux-1001/fleet"), configFile: nil, runner: FakeHost())
        #expect(tmux.invocation(["list-sessions"]).arguments == ["-S", "/tmp/tmux-1001/fleet", "list-sessions"])
        #expect(throws: TmuxError.invalidSocket("/tmp/tmux-1001/default")) { try TmuxSocket(path: "/tmp/tmux-1001/default") }
        #expect(throws: TmuxError.invalidSocket("fleet")) { try TmuxSocket(path: "fleet") }
        #expect(throws: TmuxError.invalidSocket("/tmp/")) { try TmuxSocket(path: "/tmp/") }
    }

    @Test("the roster is read through the host, with the host's defaults")
    func rosterThroughHost() throws {
        let host = FakeHost(hostName: "box")
        let context = fleet(host)
        #expect(throws: RosterError.missing(path: context.paths.roster)) { try context.loadRoster() }
        host.put(context.paths.roster, "version: 1\nagents:\n  - name: a1\n    runtime: stub\n")
        let roster = try context.loadRoster()
        #expect(roster.host == "box" && roster.agents.map(\.name) == ["a1"])
    }
}

/// The real watch: inotify wakes a waiter on a write, and only for the files it names.
@Suite("file watch")
struct FileWatchTests {
    @Test("a write of a watched file wakes the waiter; other files do not")
    func inotify() async throws {
        let dir = NSTemporaryDirectory() + "watch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileIO.makeDirectory(dir, mode: 0o700)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let watch = try LocalHost().watch(directory: dir, names: ["a.hb"])
        let seen = watch.generation
        try FileIO.writeAtomically("x", to: dir + "/b.hb")
        #expect(await watch.wait(after: seen, timeout: .milliseconds(200)) == false, "b.hb is not watched")
        let writer = Task {
            try await Task.sleep(for: .milliseconds(20))
            try FileIO.writeAtomically("x", to: dir + "/a.hb")
        }
        let clock = ContinuousClock(), start = clock.now
        #expect(await watch.wait(after: seen, timeout: .seconds(5)))
        #expect(clock.now - start < .seconds(4), "woken by the write, not by the timeout")
        try await writer.value
        #expect(await watch.wait(after: seen, timeout: .milliseconds(1)), "a change already seen returns at once")
    }
}

/// The lock waits on the kernel (a helper blocked in flock), not on a timer.
@Suite("file lock")
struct FileLockTests {
    @Test("a held lock times out the next waiter; a release lets a waiter in at once")
    func waitsOnRelease() async throws {
        let path = NSTemporaryDirectory() + "lock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        let first = try FileLock(path: path, timeout: .seconds(1))
        let clock = ContinuousClock(), start = clock.now
        #expect(throws: FileLock.Failure.timedOut(path: path, after: .milliseconds(200))) {
            try FileLock(path: path, timeout: .milliseconds(200))
        }
        #expect(clock.now - start >= .milliseconds(190))
        // The release comes from a thread of its own: the waiter below blocks the task it runs on,
        // and on a 2-core machine a releasing Task could wait behind it for a pool thread.
        let holder = UncheckedBox(first)
        Thread.detachNewThread {
            usleep(100_000)
            holder.value.release()
        }
        let waited = clock.now
        let second = try FileLock(path: path, timeout: .seconds(5))
        #expect(clock.now - waited < .seconds(4), "woken by the release")
        second.release()
        // The waiter that timed out earlier must not hold the lock now.
        let third = try FileLock(path: path, timeout: .milliseconds(500))
        third.release()
    }
}

/// The sidecar on the fake host: the process is a fake /proc entry, the files are in memory.
@Suite("sidecar in memory")
struct SidecarInMemoryTests {
    static let run = "/run/fleet"

    func until(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        // Checked once more after the deadline: a busy machine may wake this loop late, not the condition.
        while true {
            if condition() { return }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("timed out after \(timeout) waiting until \(what)")
        throw CancellationError()
    }

    @Test("a hook's report reaches the heartbeat at once (its file is watched, the poll is 10 s); the sidecar leaves with its process")
    func reportWakesTheSidecar() async throws {
        let host = FakeHost()
        try host.makeDirectory(Self.run, mode: 0o700)
        host.addProcess(pid: 50, comm: "sleep", startTime: 7)
        let heartbeats = HeartbeatStore(directory: Self.run, host: host), states = RuntimeStateStore(directory: Self.run, host: host)
        let adapter = SleepingRuntime()
        let sidecar = RuntimeSidecar(options: .init(agent: "s1", pid: 50, adapter: adapter, interval: .seconds(60),
                                                    heartbeats: heartbeats, states: states, host: host, poll: .seconds(10)))
        // The sidecar's thread starts here, not inside a Task: a starved concurrency pool (2 threads
        // on a loaded 2-core machine) must not keep it from starting at all.
        let exit = Mutex<RuntimeSidecar.Exit?>(nil)
        Thread.detachNewThread { let result = sidecar.run(); exit.withLock { $0 = result } }
        defer { sidecar.stop() }
        try await until("the first heartbeat") { heartbeats.read("s1")?.pid == 50 }
        let report = StatusUpdate.waiting("test:asked", for: .approval).applied(to: nil, now: host.now())
        host.put(states.path("s1"), report.serialized())
        try await until("the report reaches the heartbeat") { heartbeats.read("s1")?.status == "waiting" }
        host.addProcess(pid: 50, comm: "sleep", state: "Z", startTime: 7)
        host.put(states.path("s1"), report.serialized())  // wakes the loop, which finds the process gone
        try await until("the sidecar leaves") { exit.withLock { $0 } == .processGone }
        #expect(host.invocations.isEmpty, "nothing spawned")
    }
}

/// A runtime that runs as `sleep`, so the sidecar can watch a plain (fake) process.
private struct SleepingRuntime: Runtime {
    var kind: RuntimeKind { .aider }
    var binary: String? { nil }
    var expectedCommands: Set<String>? { ["sleep"] }
    var inputShapes: [InputShape] { [] }
    var resetCommand: String? { nil }
    func launch(_ context: IntegrationContext) -> LaunchAdditions { LaunchAdditions() }
    func update(event: String, payload: HookPayload) -> StatusUpdate? { nil }
}

/// Hands a lock to the releasing thread: it is only used there after the hand-over.
private final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
