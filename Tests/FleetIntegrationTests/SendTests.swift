import Foundation
import Testing
@testable import FleetCore

/// `agent send --verify` and `reset` against real runtimes in real panes: the stub, bash,
/// a Python input() loop and ipython (prompt_toolkit).
@Suite("send: verdicts against real runtimes on a real tmux server", .serialized)
struct SendTests {
    /// pip installs `ipython`, Debian's package `ipython3` (scripts/setup installs one of them).
    static let ipython = SpawnRunner.resolve("ipython") != nil ? "ipython" : "ipython3"

    /// A fleet with one agent per runtime; ipython keeps its history in the fleet's temp home.
    func fleet(record: Bool = false) throws -> TestFleet {
        let fleet = try TestFleet()
        let loop = "\(fleet.home)/input-loop.py"
        try "while True:\n    print('got', repr(input('> ')))\n".write(toFile: loop, atomically: true, encoding: .utf8)
        // The stub reads it from the server's environment (the roster reserves MOSAIC_*).
        if record { fleet.environment["MOSAIC_STUB_RECORD"] = "\(fleet.home)/last-message" }
        try fleet.writeRoster(agents: """
              - name: stub
                runtime: stub
              - name: shell
                runtime: custom
                command: "bash --norc --noprofile -i"
              - name: pyloop
                runtime: custom
                command: "python3 \(loop)"
              - name: ipy
                runtime: custom
                command: "\(Self.ipython) --no-banner --no-confirm-exit"
                env:
                  IPYTHONDIR: \(fleet.home)/ipython
            """)
        return fleet
    }

    func send(_ fleet: TestFleet, _ agent: String, _ args: [String], stdin: String? = nil) async throws -> (status: Int32, json: [String: Any]) {
        let result = try await fleet.mosaic(["agent", "send", agent, "--json", "--verify-timeout", "3"] + args, stdin: stdin)
        let json = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any]
        #expect(json != nil, "no JSON from send: \(result.stdout) \(result.stderr)")
        return (result.status, json ?? [:])
    }

    func screen(_ fleet: TestFleet, _ agent: String) async throws -> String {
        try await fleet.mosaic(["agent", "tail", agent]).stdout
    }

    @Test("accepted and draft verdicts for the stub, bash, a Python input() loop and ipython")
    func acceptedAndDraft() async throws {
        let fleet = try fleet()
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        for agent in ["stub", "shell", "pyloop", "ipy"] {
            let frame = agent == "stub" ? [] : ["--no-frame"]
            let text = agent == "shell" ? "echo accepted-$((6*7))" : agent == "ipy" ? "print('accepted', 6*7)" : "accepted 42"
            let ok = try await send(fleet, agent, ["-m", text, "--verify"] + frame)
            #expect(ok.status == 0 && ok.json["verdict"] as? String == "accepted", "\(agent): \(ok.json)")
            #expect(ok.json["submitted"] as? Bool == true)
            if agent == "stub" {
                #expect((ok.json["reason"] as? String ?? "").contains("acknowledged"), "the stub's verdict rests on its ack")
            }
            try await fleet.waitUntil("\(agent) answered") {
                let s = try await screen(fleet, agent)
                return s.contains("accepted 42") || s.contains("accepted-42") || s.contains("reply #1")
            }

            let draft = try await send(fleet, agent, ["-m", "left for the operator", "--verify", "--no-submit"] + frame)
            #expect(draft.status == 3 && draft.json["verdict"] as? String == "draft", "\(agent): \(draft.json)")
            #expect(draft.json["typed"] as? Bool == true && draft.json["submitted"] as? Bool == false)
            // The text mosaic left is now a draft like any other: the next send refuses to touch it.
            let refused = try await send(fleet, agent, ["-m", "second", "--verify"] + frame)
            #expect(refused.status == 3 && refused.json["verdict"] as? String == "draft" && refused.json["typed"] as? Bool == false,
                    "\(agent): \(refused.json)")
            let forced = try await send(fleet, agent, ["-m", text, "--verify", "--force"] + frame)
            #expect(forced.status == 0 && forced.json["verdict"] as? String == "accepted", "\(agent): \(forced.json)")
            #expect((forced.json["clearedDraft"] as? String ?? "").contains("left for the operator"))
        }
        // prompt_toolkit keeps an incomplete statement in its buffer after Enter: a real draft.
        let incomplete = try await send(fleet, "ipy", ["-m", "for i in range(3):", "--verify", "--no-frame"])
        #expect(incomplete.status == 3 && incomplete.json["verdict"] as? String == "draft", "\(incomplete.json)")
        #expect(incomplete.json["submitted"] as? Bool == true)
    }

    @Test("an operator's half-typed draft is refused, left as it was, and never submitted")
    func operatorDraft() async throws {
        let fleet = try fleet()
        try await fleet.mosaic(["fleet", "up"])
        for agent in ["stub", "shell", "pyloop", "ipy"] {
            try await fleet.waitUntil("\(agent) at its prompt", timeout: .seconds(20)) {
                try await send(fleet, agent, ["-m", "warm-up", "--verify", "--no-frame"]).json["verdict"] as? String == "accepted"
            }
            // The operator types at the prompt. (Typed while a line-reading program is busy, the
            // kernel keeps the text out of sight: see "What send cannot see" in the docs.)
            try await fleet.waitUntil("\(agent) shows its prompt again") {
                let last = try await screen(fleet, agent).split(separator: "\n").last ?? ""
                return [">", "#", "$", "]:"].contains { last.hasSuffix($0) }
            }
            try await fleet.tmux.run(["send-keys", "-t", "=\(agent):", "-l", "operator half-typ"])
            try await fleet.waitUntil("the draft shows") { try await screen(fleet, agent).contains("operator half-typ") }
            let before = try await screen(fleet, agent)
            let ack = fleet.store.read(agent)?.ack
            let result = try await send(fleet, agent, ["-m", "automated text", "--verify"])
            #expect(result.status == 3, "\(agent): \(result.json)")
            #expect(result.json["verdict"] as? String == "draft" && result.json["typed"] as? Bool == false)
            #expect((result.json["reason"] as? String ?? "").contains("operator half-typ"))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await screen(fleet, agent) == before, "\(agent): the pane changed")
            #expect(fleet.store.read(agent)?.ack == ack)
        }
    }

    @Test("a 10 KB multi-line message arrives byte for byte, as one submission")
    func longMessage() async throws {
        let fleet = try fleet(record: true)
        try await fleet.mosaic(["fleet", "up"])
        let lines = (0..<120).map { i in "line \(i): " + String(repeating: "abcdefghij", count: 7) + " \t ünïcödé ✓ $HOME `x` 'q' \"d\" \\" }
        let message = lines.joined(separator: "\n")
        #expect(message.utf8.count > 10_000)
        let result = try await send(fleet, "stub", ["--verify", "--id", "big-1", "--source-label", "tester"], stdin: message + "\n")
        #expect(result.status == 0 && result.json["verdict"] as? String == "accepted", "\(result.json)")
        #expect(result.json["delivery"] as? String == "paste")
        let received = try #require(FileIO.readSmall("\(fleet.home)/last-message"))
        #expect(received == "[mosaic msg=big-1 from=tester] " + message)
        try await fleet.waitUntil("one reply for all 120 lines") { try await screen(fleet, "stub").contains("in 120 line(s)") }
        #expect(!(try await fleet.mosaic(["agent", "tail", "stub", "-n", "400"]).stdout.contains("reply #2")), "one submission")
    }

    @Test("concurrent sends to one agent are serialized: all accepted, none merged")
    func concurrent() async throws {
        let fleet = try fleet(record: true)
        fleet.environment["MOSAIC_STUB_BUSY_MS"] = "0"
        try await fleet.mosaic(["fleet", "up"])
        // Each task hands back the exit status and the verdict (a JSON object is not Sendable).
        let results = try await withThrowingTaskGroup(of: (Int32, String?).self) { group in
            for i in 0..<5 {
                group.addTask {
                    let (status, json) = try await send(fleet, "stub", ["-m", "parallel \(i)", "--verify"])
                    return (status, json["verdict"] as? String)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.0 == 0 && $0.1 == "accepted" }, "\(results.map(\.1))")
        let tail = try await fleet.mosaic(["agent", "tail", "stub", "-n", "100"]).stdout
        #expect(tail.contains("reply #5") && !tail.contains("reply #6"))
    }

    @Test("reset sends the runtime's reset command, and --verify reports that it took")
    func reset() async throws {
        let fleet = try fleet()
        try await fleet.mosaic(["fleet", "up"])
        let result = try await fleet.mosaic(["agent", "reset", "stub", "--verify", "--json"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\"accepted\""))
        try await fleet.waitUntil("the stub says so") { try await screen(fleet, "stub").contains("conversation reset") }
        let custom = try await fleet.mosaic(["agent", "reset", "shell"])
        #expect(custom.status == 65 && custom.stderr.contains("no reset command"))
    }

    @Test("bad input and a missing agent map to their exit codes")
    func exitCodes() async throws {
        let fleet = try fleet()
        try await fleet.mosaic(["fleet", "up", "stub"])
        #expect(try await fleet.mosaic(["agent", "send", "stub", "-m", "bell\u{07}"]).status == 65)
        #expect(try await fleet.mosaic(["agent", "send", "nobody", "-m", "x"]).status == 65)
        #expect(try await fleet.mosaic(["agent", "send", "shell", "-m", "x"]).status == 69, "not running")
        #expect(try await fleet.mosaic(["agent", "send", "stub", "--id", "bad id", "-m", "x"]).status == 64)
        #expect(try await fleet.mosaic(["agent", "send", "stub", "--id", "once", "-m", "x", "--verify"]).status == 0)
        let again = try await fleet.mosaic(["agent", "send", "stub", "--id", "once", "-m", "y", "--verify"])
        #expect(again.status == 65 && again.stderr.contains("already acknowledged"), "a reused id cannot be verified")
    }
}
