import Foundation
import Testing
import FleetCore

/// `mosaic agent hook`, as runtimes call it: prints nothing, records state, exits 0; bad input
/// is a clear error, and never exit 2 (Claude Code reads 2 as "block this prompt").
@Suite("agent hook (CLI)")
struct HookCLITests {
    func hook(_ cli: CLI, _ args: [String], stdin: String?) async throws -> ProcessResult {
        try await SpawnRunner().run(Invocation(CLI.binary, ["agent", "hook"] + args, environment: cli.environment,
                                               standardInput: stdin.map { Data($0.utf8) }, timeout: .seconds(30)))
    }

    @Test("a documented Claude Code payload on stdin: silent, exit 0, state recorded for the agent")
    func records() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try FileIO.makeDirectory(cli.home + "/fleet/run", mode: 0o700)
        let result = try await hook(cli, ["--agent", "coder", "claude", "Notification"], stdin: """
            {"session_id":"abc123","transcript_path":"/x.jsonl","cwd":"/w","hook_event_name":"Notification",
             "message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"}
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty)
        let state = RuntimeStateStore(directory: cli.home + "/fleet/run").read("coder")
        #expect(state?.status == .waiting && state?.waitingFor == .approval && state?.event == "claude:Notification")
    }

    @Test("codex passes its payload as the last argument; aider passes none")
    func arguments() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try FileIO.makeDirectory(cli.home + "/fleet/run", mode: 0o700)
        let codex = try await hook(cli, ["--agent", "cx", "codex", "notify", #"{"type":"agent-turn-complete","turn-id":"1"}"#], stdin: nil)
        #expect(codex.status == 0, "\(codex.stderr)")
        #expect(RuntimeStateStore(directory: cli.home + "/fleet/run").read("cx")?.status == .waiting)
        let aider = try await hook(cli, ["--agent", "ad", "aider", "notification"], stdin: "keystrokes that are not a payload")
        #expect(aider.status == 0, "\(aider.stderr)")
        #expect(RuntimeStateStore(directory: cli.home + "/fleet/run").read("ad")?.waitingFor == .input)
    }

    @Test("errors: an unknown runtime or a bad name is usage (64); a payload that is not JSON fails (1) saying so")
    func errors() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try FileIO.makeDirectory(cli.home + "/fleet/run", mode: 0o700)
        #expect(try await hook(cli, ["--agent", "coder", "cursor", "x"], stdin: "{}").status == 64)
        #expect(try await hook(cli, ["--agent", "bad;name", "claude", "Stop"], stdin: "{}").status == 64)
        #expect(try await hook(cli, ["claude", "Stop"], stdin: "{}").status == 64, "no agent: neither --agent nor MOSAIC_AGENT_NAME")
        let bad = try await hook(cli, ["--agent", "coder", "claude", "Stop"], stdin: "not json")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("not JSON"))
    }
}
