import Foundation
import Testing
@testable import FleetCore

@Suite("roles")
struct RoleTests {
    @Test("the starter library has the six roles, each with a persona that says what it owns, reports, asks and never does")
    func library() throws {
        let names = BuiltinRoles.all.map(\.name)
        #expect(names == ["orchestrator", "reviewer", "coder", "researcher", "analyst", "finance"])
        for role in BuiltinRoles.all {
            #expect(role.persona.utf8.count > 1200, "\(role.name)'s persona is a placeholder")
            for heading in ["What you own", "How you report", "When you ask", "What you never do"] {
                #expect(role.persona.contains(heading), "\(role.name) lacks \"\(heading)\"")
            }
            #expect(!role.persona.contains("\\"), "\(role.name): a stray line continuation")
            #expect(role.runtime != nil)
        }
        let lib = RoleLibrary(roles: BuiltinRoles.all)
        #expect(try lib.role(named: "coder").persona.contains("Never push"))
        #expect(try lib.role(named: "coder").lifecycle == .ephemeral)
        #expect(try lib.role(named: "coder").restart == .never)
        #expect(try lib.role(named: "orchestrator").persona.contains("mosaic worker run"))
        #expect(try lib.role(named: "reviewer").persona.contains("blocker"))
        #expect(try lib.role(named: "finance").persona.contains("Never move money"))
        #expect(throws: RoleError.unknown("nope", known: names, directory: "<home>/roles")) { try lib.role(named: "nope") }
        #expect(throws: RoleError.invalidName("../x")) { try lib.role(named: "../x") }
    }

    func withRoles(_ files: [String: String], _ body: (String) throws -> Void) throws {
        var template = Array("\(NSTemporaryDirectory())/mosaic-roles.XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, text) in files { try FileIO.writeAtomically(text, to: "\(dir)/\(name)") }
        try body(dir)
    }

    @Test("a user role adds to the library; one named like a built-in overrides only the fields it sets")
    func userRoles() throws {
        try withRoles([
            "scribe.yaml": "summary: writes the minutes\nruntime: aider\nrestart: never\nlifecycle: ephemeral\ntools: [Read]\npersona: |\n  You take notes.\n  Nothing else.\n",
            "coder.yaml": "runtime: codex\nmodel: gpt-x\n",
            "notes.txt": "ignored",
        ]) { dir in
            let lib = try RoleLibrary.load(directory: dir)
            #expect(lib.roles.map(\.name) == BuiltinRoles.all.map(\.name) + ["scribe"])
            let scribe = try lib.role(named: "scribe")
            #expect(scribe.persona == "You take notes.\nNothing else.\n")
            #expect(scribe.runtime == .aider)
            #expect(scribe.tools == ["Read"])
            #expect(scribe.source == .user(path: "\(dir)/scribe.yaml", overrides: false))
            let coder = try lib.role(named: "coder")
            #expect(coder.runtime == .codex)
            #expect(coder.model == "gpt-x")
            #expect(coder.persona == BuiltinPersonas.coder)
            #expect(coder.lifecycle == .ephemeral)
            #expect(coder.source == .user(path: "\(dir)/coder.yaml", overrides: true))
        }
    }

    @Test("bad role files are refused with file:line and the fix")
    func badFiles() throws {
        let cases: [(String, String, String)] = [
            ("x.yaml", "persona: hi\ncolour: red\n", "x.yaml:2: unknown key \"colour\" in role \"x\"; allowed keys: summary, persona"),
            ("x.yaml", "summary: s\n", "x.yaml:1: role \"x\" has no `persona`; add `persona: |`"),
            ("x.yaml", "persona: hi\nrestart: sometimes\n", "x.yaml:2: restart \"sometimes\" is not known; use one of always | on-failure | never"),
            ("x.yaml", "persona: hi\nruntime: vim\n", "x.yaml:2: runtime \"vim\" is not known; use one of claude"),
            ("x.yaml", "persona: hi\ntools: Read\n", "x.yaml:2: `tools` must be a list"),
            ("x.yaml", "persona: [\n", "x.yaml:2: YAML syntax error"),
            ("bad name.yaml", "persona: hi\n", "bad name.yaml: the file name makes the role name \"bad name\""),
        ]
        for (file, text, message) in cases {
            try withRoles([file: text]) { dir in
                do {
                    _ = try RoleLibrary.load(directory: dir)
                    Issue.record("\(file) with \(text.debugDescription) was accepted")
                } catch let error as RoleError {
                    #expect(error.description.hasPrefix("\(dir)/\(message)"), "got: \(error)")
                }
            }
        }
    }

    @Test("an agent definition takes the role's defaults unless overridden; another runtime drops the role's model")
    func definition() throws {
        var role = BuiltinRoles.all[0]
        role.model = "opus"
        let spec = try AgentDefinition.spec(name: "lead", role: role, runtime: nil, model: nil, effort: nil, workdir: "/w")
        #expect(spec == AgentSpec(name: "lead", runtime: .claude, workdir: "/w", role: "orchestrator", model: "opus", effort: "high"))
        let other = try AgentDefinition.spec(name: "lead", role: role, runtime: .stub, model: nil, effort: "low", workdir: nil)
        #expect(other == AgentSpec(name: "lead", runtime: .stub, role: "orchestrator", model: nil, effort: "low"))
        role.runtime = nil
        #expect(throws: AgentDefinition.Problem.noRuntime(role: "orchestrator")) {
            try AgentDefinition.spec(name: "lead", role: role, runtime: nil, model: nil, effort: nil, workdir: nil)
        }
        #expect(throws: RosterError.invalidAgentName("a b")) {
            try AgentDefinition.spec(name: "a b", role: role, runtime: .stub, model: nil, effort: nil, workdir: nil)
        }
    }

    @Test("each runtime gets the persona its own way, as data: a flag, a config value, a read-only file, the environment")
    func delivery() {
        let file = "/run/a.persona.md"
        #expect(PersonaDelivery.of(.claude, file: file, persona: "p", tools: ["Read", "Bash(git diff:*)"])
                == PersonaDelivery(mechanism: .systemPromptFlag, arguments: ["--append-system-prompt-file", file],
                                   toolArguments: ["--allowed-tools", "Read,Bash(git diff:*)"]))
        #expect(PersonaDelivery.of(.codex, file: file, persona: "say \"hi\"\n\\done")
                == PersonaDelivery(mechanism: .developerInstructions, arguments: ["-c", #"developer_instructions="say \"hi\"\n\\done""#]))
        #expect(PersonaDelivery.of(.pi, file: file, persona: "p", tools: ["read"])
                == PersonaDelivery(mechanism: .systemPromptFlag, arguments: ["--append-system-prompt", file], toolArguments: ["--tools", "read"]))
        #expect(PersonaDelivery.of(.aider, file: file, persona: "p", tools: ["x"])
                == PersonaDelivery(mechanism: .readOnlyContext, arguments: ["--read", file]))
        #expect(PersonaDelivery.of(.opencode, file: file, persona: "p")
                == PersonaDelivery(mechanism: .instructionsConfig, environment: [("OPENCODE_CONFIG_CONTENT", #"{"instructions":["/run/a.persona.md"]}"#)]))
        #expect(PersonaDelivery.of(.stub, file: file, persona: "p")
                == PersonaDelivery(mechanism: .environmentFile, environment: [("MOSAIC_PERSONA_FILE", file)]))
        #expect(PersonaDelivery.tomlString("a\u{1}b") == #""a\u0001b""#)
    }

    @Test("the persona file is written 0600 in the run directory, and the stub finds it or MOSAIC_PERSONA_FILE")
    func personaFile() throws {
        try withRoles([:]) { dir in
            let run = "\(dir)/run"
            let role = BuiltinRoles.all[2]
            let path = try PersonaFile(runDirectory: run, agent: "c1").write(role)
            #expect(path == "\(run)/c1.persona.md")
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            #expect(FileIO.readSmall(path) == role.persona + "\n")
            #expect(PersonaFile.forStub(environment: [:], runDirectory: run, agent: "c1")?.path == path)
            #expect(PersonaFile.forStub(environment: [:], runDirectory: run, agent: "other") == nil)
            try FileIO.writeAtomically("custom persona\n", to: "\(dir)/p.md")
            let custom = PersonaFile.forStub(environment: ["MOSAIC_PERSONA_FILE": "\(dir)/p.md"], runDirectory: run, agent: "c1")
            #expect(custom?.text == "custom persona\n")
            #expect(PersonaFile.stubBanner(path: "/p", text: "custom persona\n") == "persona: 15 bytes from /p: custom persona\n")
        }
    }

    @Test("the health wait ends healthy on a fresh heartbeat, and says why when none comes or it is stale")
    func healthWait() async throws {
        var template = Array("\(NSTemporaryDirectory())/mosaic-hw.XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = HeartbeatStore(directory: dir)
        let wait = HealthWait(store: store, interval: 1)
        let none = await wait.wait("a", since: Date(), timeout: .milliseconds(100))
        #expect(none == .notHealthy(reason: "no heartbeat was written within 0.1 seconds (\(dir)/a.hb is missing)"))
        try store.write(Heartbeat(ts: Date().addingTimeInterval(-60), pid: 1, status: "ok"), for: "a")
        guard case .notHealthy(let reason) = await wait.wait("a", since: Date().addingTimeInterval(-120), timeout: .milliseconds(100)) else {
            Issue.record("a stale heartbeat counted as healthy")
            return
        }
        #expect(reason.contains("is not healthy"))
        try store.write(Heartbeat(ts: Date(), pid: 1, status: "ok"), for: "a")
        guard case .healthy = await wait.wait("a", since: Date().addingTimeInterval(-1), timeout: .seconds(2)) else {
            Issue.record("a fresh heartbeat was not seen")
            return
        }
        let dead = await wait.wait("b", since: Date(), timeout: .seconds(5)) { "its runtime exited (pane dead)" }
        #expect(dead == .notHealthy(reason: "its runtime exited (pane dead)"))
    }
}
