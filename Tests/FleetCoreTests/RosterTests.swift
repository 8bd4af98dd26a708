import Foundation
import Testing
@testable import FleetCore

@Suite("roster v1")
struct RosterTests {
    let loader = RosterLoader(defaults: .init(tenant: "default-tenant", host: "default-host"))

    @Test("a full roster parses with every field")
    func full() throws {
        let roster = try loader.parse("""
        version: 1
        tenant: jarvis
        host: w-jarvis
        tmux:
          socketName: my-socket
          holderSession: _keep
        heartbeat:
          intervalSeconds: 5
          silentBusySeconds: 90
        agents:
          - name: dogfood-coder
            runtime: stub
            command: "mosaic agent stub"
            workdir: ~/src
            role: coder
            env: {KEY: value, OTHER: "two words"}
        """)
        #expect(roster.tenant == "jarvis")
        #expect(roster.host == "w-jarvis")
        #expect(roster.socketName == "my-socket")
        #expect(roster.holderSession == "_keep")
        #expect(roster.heartbeatIntervalSeconds == 5)
        #expect(roster.silentBusySeconds == 90)
        let agent = try #require(roster.agents.first)
        #expect(agent == AgentSpec(name: "dogfood-coder", runtime: .stub, command: "mosaic agent stub", workdir: "~/src",
                                   role: "coder", env: ["KEY": "value", "OTHER": "two words"]))
    }

    @Test("optional fields take their documented defaults")
    func defaults() throws {
        let roster = try loader.parse("version: 1\nagents:\n  - name: a\n    runtime: stub\n")
        #expect(roster.tenant == "default-tenant")
        #expect(roster.host == "default-host")
        #expect(roster.socketName == "mosaic-factory")
        #expect(roster.holderSession == "_holder")
        #expect(roster.heartbeatIntervalSeconds == 15)
        #expect(roster.silentBusySeconds == 300)
    }

    /// Each bad roster, the line the error must name, and a phrase it must contain.
    static let badRosters: [(String, Int, String)] = [
        ("version: 1\nagents:\n  - name: a\n    runtime: stub\n   bad: [\n", 5, "YAML syntax error"),
        ("version: 1\nagents:\n  - name: a\n    runtime: stub\n    colour: red\n", 5, "unknown key \"colour\""),
        ("version: 1\nagents:\n  - runtime: stub\n", 3, "has no `name`"),
        ("version: 1\nagents:\n  - name: a\n    runtime: stub\n  - name: a\n    runtime: stub\n", 5, "used twice (first at line 3)"),
        ("version: 1\nagents:\n  - name: \"a;rm -rf ~\"\n    runtime: stub\n", 3, "is not allowed"),
        ("version: 1\nagents:\n  - name: -leading\n    runtime: stub\n", 3, "is not allowed"),
        ("version: 1\nagents:\n  - name: agent-1\n    runtime: gpt\n", 4, "unknown runtime \"gpt\""),
        ("version: 1\nagents:\n  - name: a\n", 3, "add \"runtime: stub\""),
        ("version: 1\nagents:\n  - name: a\n    runtime: custom\n", 3, "no `command`"),
        ("version: 2\nagents: []\n", 1, "unsupported roster version"),
        ("agents:\n  - name: a\n    runtime: stub\n", 1, "no `version`"),
        ("version: 1\ntmux:\n  socketName: default\nagents: []\n", 3, "must not be \"default\""),
        ("version: 1\nheartbeat:\n  intervalSeconds: 0\nagents: []\n", 3, "from 1 to 3600"),
        ("version: 1\nheartbeat:\n  silentBusySeconds: soon\nagents: []\n", 3, "from 1 to 86400"),
        ("version: 1\nagents:\n  - name: a\n    runtime: stub\n    env: {MOSAIC_AGENT_NAME: x}\n", 5, "reserved"),
        ("version: 1\nagents:\n  - name: _holder\n    runtime: stub\n", 3, "is not allowed"),
        ("version: 1\nversion: 1\nagents: []\n", 2, "appears twice"),
    ]

    @Test("a bad roster is refused with the file, the line and what to fix", arguments: badRosters.indices)
    func refused(_ index: Int) throws {
        let (text, line, phrase) = Self.badRosters[index]
        do {
            _ = try loader.parse(text, path: "/h/fleet/roster.yaml")
            Issue.record("roster #\(index) was accepted")
        } catch let error as RosterError {
            let message = error.description
            #expect(message.hasPrefix("/h/fleet/roster.yaml:\(line):"), "\(message)")
            #expect(message.contains(phrase), "\(message)")
        }
    }

    @Test("agent names: the pattern, bounded length, no shell or tmux target characters")
    func names() {
        for good in ["a", "A1", "dogfood-coder", "x_y", String(repeating: "a", count: 63)] {
            #expect(AgentName.isValid(good), "\(good)")
        }
        for bad in ["", "-a", "_a", "a b", "a;b", "a:b", "a.b", "=a", "a$(x)", "ä", String(repeating: "a", count: 64)] {
            #expect(!AgentName.isValid(bad), "\(bad)")
        }
    }

    @Test("selecting unknown agents names them all and lists the known ones")
    func select() throws {
        let roster = Roster(tenant: "t", host: "h", agents: [AgentSpec(name: "one", runtime: .stub), AgentSpec(name: "two", runtime: .stub)])
        #expect(try roster.select(["two"]).map(\.name) == ["two"])
        #expect(try roster.select([]).map(\.name) == ["one", "two"])
        #expect(throws: RosterError.unknownAgents(["x", "y"], known: ["one", "two"])) { try roster.select(["x", "one", "y"]) }
    }

    @Test("the starter roster is valid and runs only stub agents (nothing a newcomer must install or explain)")
    func starter() throws {
        let roster = try loader.parse(StarterRoster.text)
        #expect(roster.agents.count == 4)
        #expect(roster.agents.allSatisfy { $0.runtime == .stub && $0.command == nil })
    }

    @Test("a YAML syntax error names the line where the broken construct starts and where the parser gave up")
    func syntaxErrorStart() throws {
        let text = "version: 1\nagents:\n  - name: a\n    runtime: stub\n    env: [A, B\n  - name: b\n    runtime: stub\n"
        #expect(throws: RosterError.self) { try loader.parse(text, path: "r.yaml") }
        do { _ = try loader.parse(text, path: "r.yaml") } catch {
            let message = "\(error)"
            #expect(message.hasPrefix("r.yaml:5:"), "the unclosed [ is on line 5: \(message)")
            #expect(message.contains("at line 6"), "and the parser gave up on line 6: \(message)")
        }
    }

    @Test("a roster with a control character is refused at the line that holds it")
    func controlCharacterLine() throws {
        let text = "version: 1\nagents:\n  - name: a\u{7}\n    runtime: stub\n"
        do {
            _ = try loader.parse(text, path: "r.yaml")
            Issue.record("a control character was accepted")
        } catch {
            #expect("\(error)".hasPrefix("r.yaml:3:"), "\(error)")
        }
    }

    @Test("a missing roster says how to create one")
    func missing() {
        #expect(throws: RosterError.self) { try loader.load(path: "/nonexistent/roster.yaml") }
        #expect(RosterError.missing(path: "/x").description.contains("mosaic fleet init"))
    }
}
