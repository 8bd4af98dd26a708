import Foundation
import Testing
@testable import FleetCore

/// opencode cannot be installed here (Claude Code, Codex and pi run for real in their own
/// suites): these tests launch the four node-run runtimes through their adapters as fake
/// executables (Tests/Fixtures/fake-runtimes) that behave as the documented runtime does on the
/// points the adapter relies on: they run as `node` (one of the names each adapter accepts), take
/// the flags mosaic passes, and call their hooks with the documented JSON. For claude, codex and
/// pi they are a second, cheaper check of the hook wiring; for opencode they are the only one.
@Suite("simulated runtimes (claude, codex, pi, opencode)", .serialized)
struct SimulatedRuntimeTests {
    static let fakes = Repository.root + "/Tests/Fixtures/fake-runtimes"

    func fleet(_ runtime: String, command: String? = nil) throws -> TestFleet {
        try #require(SpawnRunner.resolve("node", path: ProcessInfo.processInfo.environment["PATH"]) != nil,
                     "node is not installed; the fake runtimes are node scripts (scripts/setup installs Debian's nodejs)")
        let fleet = try TestFleet()
        fleet.environment["MOSAIC_RUNTIME_BIN"] = Self.fakes
        try fleet.writeRoster(agents: """
              - name: sim
                runtime: \(runtime)
                model: m-x
                effort: high
            \(command.map { "    command: \"\($0)\"\n" } ?? "")    env:
                  FAKE_BUSY_MS: "1500"

            """, interval: 1)
        return fleet
    }

    func arguments(_ pid: Int) -> [String] {
        (FileIO.readSmall("/proc/\(pid)/cmdline", limit: 65536) ?? "").split(separator: "\0").map(String.init)
    }

    @Test("each runs as node under its sidecar: healthy, flags passed, busy and waiting from its hooks, exit status reported, nothing left",
          arguments: ["claude", "codex", "pi", "opencode"])
    func lifecycle(_ runtime: String) async throws {
        let fleet = try fleet(runtime)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        try await fleet.waitUntil("the heartbeat is healthy", timeout: .seconds(15)) { try await fleet.runtimeRow("sim")?.health == "healthy" }
        let row = try #require(try await fleet.runtimeRow("sim", ["--probe"]))
        #expect(row.runtimeCommand == "node" && row.runState == "running" && row.raw["driftFlag"] as? Bool == false)
        #expect(row.probeAnswered == true)
        #expect(row.heartbeatPid == row.panePid)
        let argv = arguments(try #require(row.panePid))
        switch runtime {
        case "claude": #expect(argv.suffix(6) == ["--settings", fleet.paths.runDirectory + "/sim.claude-settings.json", "--model", "m-x", "--effort", "high"])
        case "codex": #expect(argv.suffix(4) == ["-m", "m-x", "-c", #"model_reasoning_effort="high""#])
        case "pi": #expect(argv.suffix(6) == ["--extension", fleet.paths.runDirectory + "/sim.pi-extension.ts", "--model", "m-x", "--thinking", "high"])
        default: #expect(argv.suffix(2) == ["--model", "m-x"])
        }

        try await fleet.waitUntil("the prompt is shown", timeout: .seconds(10)) { try await fleet.screen("sim").contains("\(runtime)>") }
        try await fleet.type("hello", into: "sim")
        if runtime != "codex" {  // Codex's notify has no start-of-turn event
            try await fleet.waitUntil("busy", timeout: .seconds(5)) { try await fleet.runtimeRow("sim")?.state == "busy" }
        }
        try await fleet.waitUntil("waiting for input after the turn", timeout: .seconds(10)) {
            let row = try await fleet.runtimeRow("sim")
            return row?.state == "waiting" && row?.waitingFor == "input"
        }
        if runtime == "claude" || runtime == "opencode" {
            try await fleet.type("/approve", into: "sim")
            try await fleet.waitUntil("waiting for approval", timeout: .seconds(5)) { try await fleet.runtimeRow("sim")?.waitingFor == "approval" }
        }
        #expect(!(try await fleet.screen("sim")).contains("hook error"), "the hooks ran cleanly")

        try await fleet.type("/exit 3", into: "sim")
        try await fleet.waitUntil("exited with its status", timeout: .seconds(10)) {
            let row = try await fleet.runtimeRow("sim")
            return row?.runState == "exited" && row?.exitStatus == 3
        }
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
        try await fleet.waitUntil("the heartbeat is stale", timeout: .seconds(6)) { try await fleet.runtimeRow("sim")?.health == "stale" }
        #expect(try await fleet.runtimeRow("sim")?.problems.contains("exited with status 3") == true)
        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left)")
    }

    // Claude Code's acknowledgement is tested against the real program (ClaudeTests).
    @Test("send to opencode, whose input box was never captured from the real program: refused without --force, nothing typed; with it typed and acknowledged")
    func unknownInputLine() async throws {
        let fleet = try fleet("opencode")
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await fleet.waitUntil("the prompt is shown", timeout: .seconds(15)) { try await fleet.screen("sim").contains("opencode>") }
        let refused = try await fleet.mosaic(["agent", "send", "sim", "-m", "not without force", "--verify", "--json"])
        let r = try #require(try JSONSerialization.jsonObject(with: refused.standardOutput) as? [String: Any])
        #expect(refused.status == 3 && r["verdict"] as? String == "unverifiable" && r["typed"] as? Bool == false, "\(r)")
        #expect(try await !fleet.screen("sim").contains("not without force"))
        // With --force it types; the plugin's chat.message hook sees the framed prompt and
        // acknowledges its id, so --verify gets a definitive verdict without reading the screen.
        let sent = try await fleet.mosaic(["agent", "send", "sim", "-m", "Plan the refactor.", "--force", "--verify", "--json"])
        let s = try #require(try JSONSerialization.jsonObject(with: sent.standardOutput) as? [String: Any])
        #expect(sent.status == 0 && s["typed"] as? Bool == true && s["submitted"] as? Bool == true, "\(s)")
        #expect(s["verdict"] as? String == "accepted" && (s["reason"] as? String ?? "").contains("acknowledged"), "\(s)")
        try await fleet.waitUntil("the message reached the fake opencode") { try await fleet.screen("sim").contains("Plan the refactor.") }
        try await fleet.mosaic(["fleet", "down"])
    }

    @Test("a claude that stops drawing in the middle of a turn (hangs) is not healthy: busy, with its screen still for silentBusySeconds")
    func silentWhileBusy() async throws {
        let fleet = try TestFleet()
        fleet.environment["MOSAIC_RUNTIME_BIN"] = Self.fakes
        // The fake draws nothing while it is busy: as a hung Claude Code would (the real one
        // animates its spinner the whole turn, measured).
        try fleet.writeRoster(agents: """
              - name: sim
                runtime: claude
                env:
                  FAKE_BUSY_MS: "60000"

            """, interval: 1, extra: "  silentBusySeconds: 2\n")
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await fleet.waitUntil("the prompt is shown", timeout: .seconds(15)) { try await fleet.screen("sim").contains("claude>") }
        try await fleet.waitUntil("healthy", timeout: .seconds(10)) { try await fleet.runtimeRow("sim")?.health == "healthy" }
        try await fleet.type("a turn that never ends", into: "sim")
        try await fleet.waitUntil("busy", timeout: .seconds(5)) { try await fleet.runtimeRow("sim")?.state == "busy" }
        try await fleet.waitUntil("silent while busy: not healthy", timeout: .seconds(10)) {
            let row = try await fleet.runtimeRow("sim")
            return row?.raw["silentBusy"] as? Bool == true && row?.raw["healthy"] as? Bool == false
        }
        let row = try #require(try await fleet.runtimeRow("sim"))
        #expect(row.health == "healthy", "the heartbeat itself is fresh: the process runs")
        #expect(row.problems.contains { $0.hasPrefix("busy, but its screen has not changed for") }, "\(row.problems)")
        let check = try await fleet.mosaic(["fleet", "ps", "--check"])
        #expect(check.status == 3 && check.stdout.contains("SILENT("), "\(check.stdout)")
        #expect(try await fleet.mosaic(["fleet", "down"]).status == 0)
    }

    @Test("a runtime that exits back to a shell: the pane lives, ps says not running, the heartbeat goes stale")
    func backToShell() async throws {
        let fleet = try fleet("claude", command: "sh -c 'claude; exec sh'")
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("healthy under the wrapper", timeout: .seconds(15)) {
            let row = try await fleet.runtimeRow("sim")
            return row?.health == "healthy" && row?.runtimeCommand == "node" && row?.raw["paneCommand"] as? String == "sh"
        }
        try await fleet.waitUntil("the prompt is shown", timeout: .seconds(10)) { try await fleet.screen("sim").contains("claude>") }
        try await fleet.type("/exit", into: "sim")
        try await fleet.waitUntil("not running", timeout: .seconds(5)) { try await fleet.runtimeRow("sim")?.runState == "not-running" }
        try await fleet.waitUntil("the heartbeat is stale", timeout: .seconds(6)) { try await fleet.runtimeRow("sim")?.health == "stale" }
        let row = try #require(try await fleet.runtimeRow("sim"))
        #expect(row.session == "running" && !row.healthy)
        #expect(row.problems.contains("runtime not running (pane runs sh)"), "\(row.problems)")
        #expect(try await fleet.mosaic(["fleet", "ps"]).stdout.contains("not-running"))
        #expect(fleet.sidecars.count == 1, "the sidecar waits: the runtime may be started again in that pane")
        try await fleet.mosaic(["fleet", "down"])
        try await fleet.waitUntil("the sidecar is gone") { fleet.sidecars.isEmpty }
    }

    @Test("down stops the sidecar even when the runtime outlives its pane (ignores SIGHUP): no heartbeat comes back")
    func downStopsSidecar() async throws {
        let fleet = try fleet("pi")
        try fleet.writeRoster(agents: "  - name: sim\n    runtime: pi\n    env:\n      FAKE_IGNORE_HUP: \"1\"\n", interval: 1)
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("healthy", timeout: .seconds(15)) { try await fleet.runtimeRow("sim")?.health == "healthy" }
        let runtime = try #require(try await fleet.runtimeRow("sim")?.panePid)
        defer { kill(pid_t(runtime), SIGKILL) }
        let down = try await fleet.mosaic(["fleet", "down"])
        #expect(down.status == 0)
        #expect(fleet.sidecars.isEmpty, "down waited for the sidecar to stop")
        #expect(ProcessTable().sample(Int32(runtime)).map { !$0.isZombie } == true, "the runtime did outlive its pane")
        let deadline = Date().addingTimeInterval(2.5)
        while Date() < deadline {
            #expect(fleet.store.read("sim") == nil, "a heartbeat came back after down")
            try await Task.sleep(for: .milliseconds(100))
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: fleet.paths.runDirectory)
        #expect(left.isEmpty, "run directory still holds \(left)")
    }

    @Test("hooks never refresh a heartbeat themselves: with the runtime stopped, a hook call changes the state file only")
    func hookDoesNotRefresh() async throws {
        // A wrapper so a stop sticks (tmux continues a stopped pane process at once).
        let fleet = try fleet("claude", command: "sh -c 'claude; exit $?'")
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("healthy", timeout: .seconds(15)) { try await fleet.runtimeRow("sim")?.health == "healthy" }
        let child = try #require(try await fleet.runtimeRow("sim")?.runtimePid)
        kill(pid_t(child), SIGSTOP)
        defer { kill(pid_t(child), SIGCONT) }
        try await fleet.waitUntil("stopped", timeout: .seconds(5)) { try await fleet.runtimeRow("sim")?.runState == "stopped" }
        let before = try #require(fleet.store.read("sim")?.ts)
        let hook = try await fleet.mosaic(["agent", "hook", "--agent", "sim", "claude", "UserPromptSubmit"],
                                          stdin: #"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"x"}"#)
        #expect(hook.status == 0 && hook.stdout.isEmpty, "a hook prints nothing: \(hook.stdout) \(hook.stderr)")
        #expect(RuntimeStateStore(directory: fleet.paths.runDirectory).read("sim")?.status == .busy)
        try await fleet.waitUntil("the heartbeat is stale", timeout: .seconds(6)) { try await fleet.runtimeRow("sim")?.health == "stale" }
        #expect(fleet.store.read("sim")?.ts == before, "nothing wrote a heartbeat for a stopped runtime")
        kill(pid_t(child), SIGCONT)
        try await fleet.waitUntil("healthy and busy once continued", timeout: .seconds(5)) {
            let row = try await fleet.runtimeRow("sim")
            return row?.health == "healthy" && row?.state == "busy"
        }
        try await fleet.mosaic(["fleet", "down"])
    }
}
