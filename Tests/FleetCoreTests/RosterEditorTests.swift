import Foundation
import Testing
@testable import FleetCore

/// The roster editor changes exactly the one entry: everything else is compared byte for byte.
@Suite("roster editor")
struct RosterEditorTests {
    let loader = RosterLoader(defaults: .init(tenant: "t", host: "h"))
    let scout = AgentSpec(name: "scout", runtime: .stub, role: "coder", model: "m-1", effort: "high")

    func editor(_ text: String) -> RosterEditor { RosterEditor(text: text, path: "roster.yaml", loader: loader) }

    /// `after` must be `before` with `inserted` spliced in at `at`: nothing else may change.
    func expectInsertion(_ before: String, _ after: String, inserted: String, at marker: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        guard let range = before.range(of: marker) else {
            Issue.record("marker not found", sourceLocation: sourceLocation)
            return
        }
        var expected = before
        expected.insert(contentsOf: inserted, at: range.upperBound)
        #expect(after == expected, sourceLocation: sourceLocation)
    }

    @Test("2-space block list with comments and a trailing comment: the entry goes after the last one, all else kept")
    func twoSpace() throws {
        let before = """
        # my fleet
        version: 1
        agents:
          # the boss
          - name: boss
            runtime: stub   # trailing comment
            env: {A: "1", B: two}
          - name: helper
            role: free text role
            runtime: stub
            # helper's note

        # after the list
        heartbeat:
          intervalSeconds: 5

        """
        let after = try editor(before).adding(scout)
        expectInsertion(before, after, inserted: "\n  - name: scout\n    runtime: stub\n    role: coder\n    model: m-1\n    effort: high",
                        at: "# helper's note")
        let roster = try loader.parse(after)
        #expect(roster.agents.map(\.name) == ["boss", "helper", "scout"])
        #expect(roster.agents[1].role == "free text role")
        #expect(roster.heartbeatIntervalSeconds == 5)
        // Removing it again gives back the original bytes.
        #expect(try editor(after).removing("scout") == before)
    }

    @Test("4-space indents with the dash at the key's column and `name` not first")
    func fourSpaceDashAtColumnZero() throws {
        let before = """
        version: 1
        agents:
        -   runtime: stub
            name: one
            env:
                KEY: value
        -   runtime: stub
            name: two
        tmux:
            socketName: s1
        """
        let after = try editor(before).adding(AgentSpec(name: "three", runtime: .claude, role: "reviewer"))
        expectInsertion(before, after, inserted: "\n-   name: three\n    runtime: claude\n    role: reviewer", at: "name: two")
        #expect(try loader.parse(after).agents.map(\.name) == ["one", "two", "three"])
        #expect(try loader.parse(after).socketName == "s1")
        #expect(try editor(after).removing("three") == before)
    }

    @Test("a roster without a final newline keeps having none")
    func noFinalNewline() throws {
        let before = "version: 1\nagents:\n  - name: a\n    runtime: stub"
        let after = try editor(before).adding(AgentSpec(name: "b", runtime: .stub))
        #expect(after == before + "\n  - name: b\n    runtime: stub")
    }

    @Test("removing a middle entry removes exactly its lines, its comments inside it too, and keeps the comment above the next")
    func removeMiddle() throws {
        let before = """
        version: 1
        agents:
          - name: a
            runtime: stub
          - name: b
            # b's own comment
            runtime: stub
            env:
              X: "1"
          # about c
          - name: c
            runtime: stub

        """
        let after = try editor(before).removing("b")
        #expect(after == """
        version: 1
        agents:
          - name: a
            runtime: stub
          # about c
          - name: c
            runtime: stub

        """)
    }

    @Test("removing the only entry leaves an empty agents list that still loads")
    func removeOnly() throws {
        let before = "version: 1\nagents:\n  - name: a\n    runtime: stub\n# end\n"
        let after = try editor(before).removing("a")
        #expect(after == "version: 1\nagents:\n# end\n")
        #expect(try loader.parse(after).agents.isEmpty)
        // And adding to the empty list uses the file's indent unit (2, the default here).
        let again = try editor(after).adding(AgentSpec(name: "a", runtime: .stub))
        #expect(again == "version: 1\nagents:\n  - name: a\n    runtime: stub\n# end\n")
    }

    @Test("an empty `agents:` takes the indent unit the rest of the file uses")
    func emptyBlockFourSpaces() throws {
        let before = "version: 1\ntmux:\n    socketName: s\nagents:\n"
        let after = try editor(before).adding(AgentSpec(name: "a", runtime: .stub))
        #expect(after == "version: 1\ntmux:\n    socketName: s\nagents:\n    - name: a\n      runtime: stub\n")
    }

    @Test("flow lists on one line and on several keep their style")
    func flowLists() throws {
        let one = "version: 1\nagents: [{name: a, runtime: stub}, {name: b, runtime: stub}]  # two\n"
        let oneAfter = try editor(one).adding(AgentSpec(name: "c", runtime: .stub))
        #expect(oneAfter == "version: 1\nagents: [{name: a, runtime: stub}, {name: b, runtime: stub}, {name: c, runtime: stub}]  # two\n")
        #expect(try editor(oneAfter).removing("c") == one)
        #expect(try editor(one).removing("a") == "version: 1\nagents: [{name: b, runtime: stub}]  # two\n")

        let many = "version: 1\nagents: [\n  {name: a, runtime: stub},   # first\n  {name: b, runtime: stub},\n]\n"
        let manyAfter = try editor(many).adding(AgentSpec(name: "c", runtime: .stub, role: "coder"))
        #expect(manyAfter == "version: 1\nagents: [\n  {name: a, runtime: stub},   # first\n  {name: b, runtime: stub},\n  {name: c, runtime: stub, role: coder},\n]\n")
        #expect(try editor(manyAfter).removing("c") == many)

        let empty = "version: 1\nagents: []\n"
        #expect(try editor(empty).adding(AgentSpec(name: "a", runtime: .stub)) == "version: 1\nagents: [{name: a, runtime: stub}]\n")
    }

    @Test("values that YAML would read differently are quoted")
    func quoting() throws {
        let before = "version: 1\nagents:\n  - name: a\n    runtime: stub\n"
        let spec = AgentSpec(name: "b", runtime: .stub, workdir: "/tmp/my dir: x #1", role: "coder", model: "true", effort: "high")
        let after = try editor(before).adding(spec)
        #expect(after.contains("    workdir: \"/tmp/my dir: x #1\"\n"))
        #expect(after.contains("    model: \"true\"\n"))
        #expect(try loader.parse(after).agents.last == spec)
    }

    @Test("a taken name, an unknown name and a roster without agents are refused with the place and the fix")
    func refusals() throws {
        let before = "version: 1\nagents:\n  - name: a\n    runtime: stub\n"
        #expect(throws: RosterEditError.nameTaken("a", path: "roster.yaml", line: 3)) {
            try editor(before).adding(AgentSpec(name: "a", runtime: .stub))
        }
        #expect(throws: RosterEditError.notFound("zz", path: "roster.yaml", known: ["a"])) { try editor(before).removing("zz") }
        #expect(throws: RosterError.self) { try editor("version: 1\n").adding(scout) }
        let tagged = "version: 1\nagents: !!seq [{name: a, runtime: stub}]\n"
        #expect(throws: RosterEditError.self) { try editor(tagged).adding(scout) }
    }
}
