import Foundation
import Testing
import FleetCore

/// Runs the built `mosaic` binary with a private home; checks stdout, stderr and exit codes.
struct CLI {
    let home: String
    var environment: [String: String?]

    init() throws {
        var template = Array("\(NSTemporaryDirectory())/mosaic-cli.XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw FileIO.Failure(path: "tmp", reason: "mkdtemp failed") }
        home = String(cString: dir)
        environment = ["MOSAIC_HOME": home, "MOSAIC_SYSTEMD": "off", "NO_COLOR": "1",
                       "MOSAIC_AGENT_NAME": nil, "XDG_CONFIG_HOME": home + "/xdg"]
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: home) }

    static var binary: String {
        if let bin = ProcessInfo.processInfo.environment["MOSAIC_BIN"] { return bin }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 where !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("mosaic").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("mosaic").path
    }

    @discardableResult
    func run(_ args: [String], env: [String: String?] = [:]) async throws -> ProcessResult {
        try await SpawnRunner().run(Invocation(Self.binary, args, environment: environment.merging(env) { $1 },
                                               timeout: .seconds(30)))
    }

    func writeRoster(_ text: String) throws {
        try FileIO.makeDirectory(home + "/fleet", mode: 0o755)
        try FileIO.writeAtomically(text, to: home + "/fleet/roster.yaml")
    }
}

@Suite("the mosaic command line")
struct CLITests {
    @Test("--help lists the verbs and the exit codes")
    func help() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        let top = try await cli.run(["--help"])
        #expect(top.status == 0)
        #expect(top.stdout.contains("fleet") && top.stdout.contains("agent"))
        #expect(top.stdout.contains("64  bad usage") && top.stdout.contains("69  tmux or systemd unavailable"))
        #expect(!top.stdout.contains("internal"), "unit entry points stay hidden")
        let ps = try await cli.run(["fleet", "ps", "--help"])
        for flag in ["--json", "--probe", "--check", "--home"] { #expect(ps.stdout.contains(flag)) }
    }

    @Test("fleet init writes the starter roster once and is harmless twice")
    func initTwice() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        let first = try await cli.run(["fleet", "init", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: first.standardOutput) as? [String: Any])
        #expect(object["rosterWritten"] as? Bool == true)
        #expect(object["systemd"] as? Bool == false)
        var st = stat()
        #expect(stat(cli.home + "/fleet/run", &st) == 0 && st.st_mode & 0o777 == 0o700)
        try FileIO.writeAtomically(StarterRoster.text + "  - name: mine\n    runtime: stub\n", to: cli.home + "/fleet/roster.yaml")
        let second = try await cli.run(["fleet", "init", "--json"])
        #expect(second.status == 0)
        #expect(second.stdout.contains("\"rosterWritten\": false"))
        #expect(FileIO.readSmall(cli.home + "/fleet/roster.yaml")?.contains("name: mine") == true, "the user's roster is kept")
    }

    @Test("agent roster prints a table and a JSON twin with tenant_id and host")
    func roster() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try await cli.run(["fleet", "init"])
        let table = try await cli.run(["agent", "roster"])
        #expect(table.stdout.contains("dogfood-coder") && table.stdout.contains("dogfood-tester"))
        let json = try await cli.run(["agent", "roster", "--json"])
        let array = try #require(try JSONSerialization.jsonObject(with: json.standardOutput) as? [[String: Any]])
        #expect(array.count == 4)
        #expect(array.allSatisfy { $0["tenant_id"] is String && $0["host"] is String })
    }

    @Test("no roster: exit 65 and the fix; a bad roster: exit 65 with file and line")
    func rosterErrors() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        let missing = try await cli.run(["fleet", "ps"])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("mosaic fleet init"))
        try cli.writeRoster("version: 1\nagents:\n  - name: a\n    runtime: stub\n    bogus: 1\n")
        let bad = try await cli.run(["agent", "roster"])
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("roster.yaml:5:"))
        #expect(bad.stdout.isEmpty)
    }

    @Test("an agent name that could inject into a shell or a tmux target is bad usage (64)")
    func injection() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try await cli.run(["fleet", "init"])
        for name in ["a;rm -rf ~", "=dogfood", "x:1", "$(id)", "dogfood-coder.0"] {
            let result = try await cli.run(["fleet", "up", name])
            #expect(result.status == 64, "\(name): \(result.status)")
            #expect(result.stderr.contains("not a valid agent name"))
        }
        let unknown = try await cli.run(["fleet", "up", "nobody"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("no agent named \"nobody\""))
    }

    @Test("no tmux on PATH: up exits 69 and says how to install it")
    func noTmux() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try cli.writeRoster("version: 1\ntmux:\n  socketName: cli-no-tmux-\(getpid())\nagents:\n  - name: a\n    runtime: stub\n")
        let empty = cli.home + "/emptybin"
        try FileIO.makeDirectory(empty, mode: 0o755)
        let result = try await cli.run(["fleet", "up"], env: ["PATH": empty])
        #expect(result.status == 69)
        #expect(result.stderr.contains("tmux is not installed"))
    }

    @Test("ps with no tmux server: exit 0, says so; --check exits 3; verify lists problems and exits 3")
    func noServer() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try cli.writeRoster("version: 1\ntmux:\n  socketName: cli-none-\(getpid())\nagents:\n  - name: a\n    runtime: stub\n")
        let ps = try await cli.run(["fleet", "ps"])
        #expect(ps.status == 0)
        #expect(ps.stdout.contains("tmux server not running"))
        #expect(try await cli.run(["fleet", "ps", "--check"]).status == 3)
        let verify = try await cli.run(["fleet", "verify"])
        #expect(verify.status == 3)
        #expect(verify.stdout.contains("PROBLEM tmux server"))
        #expect(verify.stdout.contains("fix: run `mosaic fleet up`"))
        let json = try await cli.run(["fleet", "verify", "--json"])
        #expect(try JSONSerialization.jsonObject(with: json.standardOutput) is [[String: Any]])
    }

    @Test("agent heartbeat writes a v1 file for the agent in the environment, and refuses without one")
    func heartbeat() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try FileIO.makeDirectory(cli.home + "/fleet/run", mode: 0o700)
        let none = try await cli.run(["agent", "heartbeat"])
        #expect(none.status == 64)
        #expect(none.stderr.contains("MOSAIC_AGENT_NAME"))
        let ok = try await cli.run(["agent", "heartbeat", "--status", "busy"], env: ["MOSAIC_AGENT_NAME": "hooked"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let beat = try #require(HeartbeatStore(directory: cli.home + "/fleet/run").read("hooked"))
        #expect(beat.status == "busy")
        #expect(Date().timeIntervalSince(beat.ts) < 10)
        let bad = try await cli.run(["agent", "heartbeat", "--status", "dancing"], env: ["MOSAIC_AGENT_NAME": "hooked"])
        #expect(bad.status == 64)
        // In the pane of a runtime with a sidecar, nothing but the sidecar writes the heartbeat.
        let before = try #require(HeartbeatStore(directory: cli.home + "/fleet/run").read("hooked"))
        for runtime in ["claude", "codex", "pi", "opencode", "aider"] {
            let refused = try await cli.run(["agent", "heartbeat"], env: ["MOSAIC_AGENT_NAME": "hooked", "MOSAIC_RUNTIME": runtime])
            #expect(refused.status == 64 && refused.stderr.contains("sidecar"), "\(runtime): \(refused.stderr)")
        }
        #expect(HeartbeatStore(directory: cli.home + "/fleet/run").read("hooked") == before, "nothing written")
        let custom = try await cli.run(["agent", "heartbeat"], env: ["MOSAIC_AGENT_NAME": "hooked", "MOSAIC_RUNTIME": "custom"])
        #expect(custom.status == 0, "\(custom.stderr)")
    }

    @Test("the stub exits cleanly on EOF")
    func stubEOF() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try FileIO.makeDirectory(cli.home + "/fleet/run", mode: 0o700)
        let result = try await SpawnRunner().run(Invocation(
            CLI.binary, ["agent", "stub", "--busy-ms", "0"],
            environment: cli.environment.merging(["MOSAIC_AGENT_NAME": "eof"]) { $1 },
            standardInput: Data("hello\n[mosaic msg=m-1 from=t] second\n".utf8), timeout: .seconds(20)))
        #expect(result.status == 0)
        #expect(result.stdout.contains("stub reply #1"))
        #expect(result.stdout.contains("message m-1"))
        #expect(HeartbeatStore(directory: cli.home + "/fleet/run").read("eof")?.ack == "m-1")
    }
}
