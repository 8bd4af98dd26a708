import Foundation
import Testing
@testable import FleetCore

@Suite("tmux command construction")
struct TmuxCommandTests {
    func tmux(_ runner: RecordingRunner) throws -> Tmux {
        Tmux(socket: try TmuxSocket("fleet-sock"), configFile: "/h/fleet/tmux.conf", runner: runner)
    }

    @Test("every call goes to the fleet's socket with the fleet's config and without $TMUX")
    func socketAndConfig() async throws {
        let runner = RecordingRunner()
        _ = try await tmux(runner).hasSession("agent-1")
        let call = try #require(runner.invocations.first)
        #expect(call.executable == "tmux")
        #expect(call.arguments == ["-L", "fleet-sock", "-f", "/h/fleet/tmux.conf", "has-session", "-t", "=agent-1"])
        #expect(call.environment["TMUX"] == .some(nil))
    }

    @Test("the user's default socket and empty names are refused")
    func refusesDefault() {
        #expect(throws: TmuxError.invalidSocket("default")) { try TmuxSocket("default") }
        #expect(throws: TmuxError.invalidSocket("")) { try TmuxSocket("") }
        #expect(throws: TmuxError.invalidSocket("a/b")) { try TmuxSocket("a/b") }
    }

    @Test("new sessions: exact-match targets, per-window manual size, session environment; 100 agents in a few calls")
    func batchedSessions() async throws {
        let runner = RecordingRunner()
        let sessions = (1...100).map {
            NewSession(name: "agent-\($0)", command: .shell("exec sleep 1"), workdir: "/tmp",
                       environment: [("MOSAIC_AGENT_NAME", "agent-\($0)")])
        }
        try await tmux(runner).newSessions(sessions)
        #expect(runner.invocations.count < 10, "batched: \(runner.invocations.count) calls for 100 sessions")
        let all = runner.invocations.flatMap { $0.arguments }
        #expect(all.filter { $0 == "new-session" }.count == 100)
        #expect(all.contains("=agent-10:"))
        #expect(!all.contains("-g"), "window-size manual must never be set globally (crashes tmux 3.3a)")
        for call in runner.invocations {
            #expect(call.arguments.reduce(0) { $0 + $1.utf8.count + 1 } < 16_000, "fits one tmux message")
        }
        let first = runner.invocations[0].arguments
        let start = try #require(first.firstIndex(of: "new-session"))
        #expect(Array(first[start..<(start + 14)]) == ["new-session", "-d", "-s", "agent-1", "-x", "200", "-y", "50", "-c", "/tmp",
                                                       "-e", "MOSAIC_AGENT_NAME=agent-1", "exec sleep 1", ";"])
        #expect(Array(first[(start + 14)..<(start + 20)]) == ["set-option", "-w", "-t", "=agent-1:", "window-size", "manual"])
    }

    @Test("stderr is classified once: no server, no session, duplicate, other")
    func classify() async throws {
        let cases: [(String, TmuxError)] = [
            ("no server running on /tmp/tmux-0/fleet-sock\n", .noServer(socket: "fleet-sock")),
            ("error connecting to /tmp/tmux-0/fleet-sock (No such file or directory)\n", .noServer(socket: "fleet-sock")),
            ("can't find session: =x\n", .noSuchSession("x")),
            ("duplicate session: x\n", .duplicateSession("x")),
            ("unknown command: frob\n", .failed(command: "has-session", status: 1, stderr: "unknown command: frob\n")),
        ]
        for (stderr, expected) in cases {
            let runner = RecordingRunner { _ in ProcessResult(status: 1, standardError: Data(stderr.utf8)) }
            do {
                try await tmux(runner).run(["has-session", "-t", "=x"], target: "x")
                Issue.record("no error for \(stderr)")
            } catch let error as TmuxError {
                #expect(error == expected)
            }
        }
    }

    @Test("list-panes on a socket with no server is nil, not an error")
    func noServer() async throws {
        let runner = RecordingRunner { _ in ProcessResult(status: 1, standardError: Data("no server running on /x\n".utf8)) }
        #expect(try await tmux(runner).listPanes() == nil)
    }

    @Test("fleet ps reads each plane with a fixed number of calls, whatever the fleet's size", arguments: [3, 300])
    func psCallsDoNotGrow(_ size: Int) async throws {
        let home = NSTemporaryDirectory() + "ps-calls-\(getpid())-\(size)"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let runner = RecordingRunner { inv in
            if inv.arguments.contains("list-panes") {
                let lines = (0..<size).map { "a\($0)\t0\t%\($0)\t\(100_000 + $0)\t0\t\t1\t0\t80\t24\tsleep" }
                return ProcessResult(status: 0, standardOutput: Data(lines.joined(separator: "\n").utf8))
            }
            return ProcessResult(status: 0)
        }
        let runtime = home + "/xdg"
        try FileIO.makeDirectory(runtime + "/systemd", mode: 0o700)
        FileManager.default.createFile(atPath: runtime + "/systemd/private", contents: nil)
        let context = FleetContext(paths: FleetPaths(home: home), environment: ["XDG_RUNTIME_DIR": runtime, "HOME": home],
                                   userName: "u", hostName: "h", mosaicExecutable: "/usr/bin/mosaic", runner: runner)
        let roster = Roster(tenant: "t", host: "h", agents: (0..<size).map { AgentSpec(name: "a\($0)", runtime: .stub) })
        _ = try await PlaneReader(context: context).read(roster: roster)
        let programs = runner.invocations.map { $0.executable }
        #expect(programs.sorted() == ["systemctl", "tmux"], "one call per plane, got \(programs)")
    }
}

@Suite("process runner")
struct RunnerTests {
    @Test("argv is passed as is, exit status is data, both streams are kept")
    func basics() async throws {
        let result = try await SpawnRunner().run(Invocation("sh", ["-c", "printf '%s' \"$1\"; echo err >&2; exit 4", "sh", "a b;c"]))
        #expect(result.status == 4)
        #expect(result.stdout == "a b;c")
        #expect(result.stderr == "err\n")
    }

    @Test("standard input is delivered whole")
    func stdin() async throws {
        let text = String(repeating: "0123456789\n", count: 20_000)
        let result = try await SpawnRunner().run(Invocation("cat", [], standardInput: Data(text.utf8)))
        #expect(result.stdout == text)
    }

    @Test("a timeout kills the program and says so; a missing program is named")
    func failures() async throws {
        await #expect(throws: ProcessError.self) {
            try await SpawnRunner().run(Invocation("sleep", ["5"], timeout: .milliseconds(200)))
        }
        await #expect(throws: ProcessError.notFound("no-such-program-xyz")) {
            try await SpawnRunner().run(Invocation("no-such-program-xyz", []))
        }
    }

    @Test("output beyond the limit is an error, never a silent truncation")
    func outputLimit() async throws {
        await #expect(throws: ProcessError.self) {
            try await SpawnRunner().run(Invocation("head", ["-c", "100000", "/dev/zero"], outputLimit: 1000))
        }
    }

    @Test("a daemon holding the output pipe does not hang the call")
    func daemonHoldsPipe() async throws {
        // The daemon outlives the call by far (30 s), so returning while it runs is the proof,
        // not a tight bound a loaded machine could miss.
        let start = ContinuousClock.now
        let result = try await SpawnRunner().run(Invocation("sh", ["-c", "sleep 30 & echo $!"], timeout: .seconds(60)))
        let daemon = try #require(pid_t(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(daemon, SIGKILL) }
        #expect(kill(daemon, 0) == 0, "the daemon still runs")
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
