import Foundation
import Testing
@testable import FleetCore

@Suite("what runs in a pane")
struct LaunchTests {
    func context(env: [String: String]) -> FleetContext {
        FleetContext(paths: FleetPaths(home: "/h"), environment: env, userName: "u", hostName: "host",
                     mosaicExecutable: "/opt/mosaic dir/bin/mosaic", runner: RecordingRunner())
    }

    let roster = Roster(tenant: "acme", host: "box", heartbeatIntervalSeconds: 7, agents: [])

    @Test("the stub execs the same mosaic binary, quoted, with PATH baked into the command line")
    func stub() throws {
        let launch = RuntimeLaunch(context: context(env: ["HOME": "/home/u", "PATH": "/usr/bin"]), roster: roster)
        let command = try launch.command(for: AgentSpec(name: "s", runtime: .stub))
        guard case .shell(let line) = command else { Issue.record("expected a shell line"); return }
        #expect(line.hasPrefix("PATH='/home/u/.npm-global/bin:/home/u/.volta/bin:/home/u/.local/bin:"))
        #expect(line.contains("/opt/mosaic dir/bin:"), "mosaic's own directory is on the pane PATH")
        #expect(line.hasSuffix("; export PATH; exec '/opt/mosaic dir/bin/mosaic' agent stub"))
    }

    @Test("a roster command is exec'd as written; an agent's own PATH wins")
    func rosterCommand() throws {
        let launch = RuntimeLaunch(context: context(env: ["HOME": "/home/u"]), roster: roster)
        let agent = AgentSpec(name: "c", runtime: .custom, command: "python3 -u loop.py --flag 'a b'", env: ["PATH": "/only/here"])
        #expect(try launch.command(for: agent) == .shell("PATH=/only/here; export PATH; exec python3 -u loop.py --flag 'a b'"))
    }

    @Test("MOSAIC_RUNTIME_BIN comes first and a runtime binary is found there")
    func runtimeBin() throws {
        let dir = NSTemporaryDirectory() + "rtbin-\(getpid())"
        try FileIO.makeDirectory(dir, mode: 0o755)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/codex", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        let launch = RuntimeLaunch(context: context(env: ["HOME": "/home/u", "MOSAIC_RUNTIME_BIN": dir]), roster: roster)
        #expect(launch.runtimeBinDirectories.first == dir)
        guard case .shell(let line) = try launch.command(for: AgentSpec(name: "x", runtime: .codex)) else { Issue.record("expected a shell command line"); return }
        #expect(line.contains("; exec \(dir)/codex "), "the resolved binary is exec'd, with the integration's arguments")
    }

    @Test("where runtimes are installed: npm's prefix from ~/.npmrc, nvm's newest node, pipx's apps and their venvs, an active venv")
    func installLocations() throws {
        var template = Array("\(NSTemporaryDirectory())/rthome.XXXXXX".utf8CString)
        let home = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: home) }
        func executable(_ path: String) throws {
            try FileIO.makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
            FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        }
        try FileIO.writeAtomically("cache=${HOME}/.npm-cache\nprefix = ~/npm-prefix\n", to: home + "/.npmrc")
        for version in ["v18.19.1", "v22.11.0", "v9.0.0", "not-a-version"] { try FileIO.makeDirectory(home + "/.nvm/versions/node/\(version)/bin", mode: 0o755) }
        try executable(home + "/npm-prefix/bin/claude")
        try executable(home + "/.local/share/pipx/venvs/aider-chat/bin/aider")
        try FileIO.makeDirectory(home + "/.local/share/pipx/venvs/aider-chat/bin", mode: 0o755)
        let launch = RuntimeLaunch(context: context(env: ["HOME": home, "PATH": "/nonexistent-bin", "PIPX_BIN_DIR": home + "/pipx-apps",
                                                          "VIRTUAL_ENV": home + "/venv"]), roster: roster)
        let dirs = launch.runtimeBinDirectories
        #expect(dirs.contains(home + "/npm-prefix/bin"), "prefix from ~/.npmrc, ~ expanded")
        #expect(dirs.contains(home + "/.nvm/versions/node/v22.11.0/bin") && !dirs.contains(home + "/.nvm/versions/node/v9.0.0/bin"),
                "nvm's newest node (numerically, not as text)")
        #expect(dirs.contains(home + "/pipx-apps") && dirs.contains(home + "/venv/bin") && dirs.contains(home + "/.volta/bin"))
        #expect(!dirs.contains { $0.contains("/pipx/venvs/") }, "a pipx venv's python stays off the pane's PATH")
        guard case .shell(let claude) = try launch.command(for: AgentSpec(name: "c", runtime: .claude)) else { Issue.record("expected a shell line"); return }
        #expect(claude.contains("exec \(home)/npm-prefix/bin/claude "), "\(claude)")
        guard case .shell(let aider) = try launch.command(for: AgentSpec(name: "a", runtime: .aider)) else { Issue.record("expected a shell line"); return }
        #expect(aider.contains("exec \(home)/.local/share/pipx/venvs/aider-chat/bin/aider"), "found in its pipx venv: \(aider)")
        #expect(RuntimeLaunch.npmrcPrefix(home: home + "/none") == nil)
    }

    @Test("a runtime that cannot be found is refused, naming where it looked")
    func notFound() {
        let launch = RuntimeLaunch(context: context(env: ["HOME": "/nonexistent-home", "PATH": "/nonexistent-bin"]), roster: roster)
        #expect(throws: LaunchError.self) { try launch.command(for: AgentSpec(name: "x", runtime: .opencode)) }
        do { _ = try launch.command(for: AgentSpec(name: "x", runtime: .opencode)) } catch {
            #expect("\(error)".contains("/nonexistent-home/.npm-global/bin"))
        }
    }

    @Test("the session carries the agent's identity in its own environment")
    func environment() throws {
        let launch = RuntimeLaunch(context: context(env: ["HOME": "/home/u"]), roster: roster)
        let env = Dictionary(uniqueKeysWithValues: launch.environment(for: AgentSpec(name: "a1", runtime: .stub, env: ["K": "v"])))
        #expect(env["MOSAIC_AGENT_NAME"] == "a1")
        #expect(env["MOSAIC_TENANT_ID"] == "acme")
        #expect(env["MOSAIC_HOST"] == "box")
        #expect(env["MOSAIC_HOME"] == "/h")
        #expect(env["MOSAIC_HEARTBEAT_INTERVAL"] == "7")
        #expect(env["K"] == "v")
    }

    @Test("a workdir that does not exist is refused before anything starts")
    func workdir() {
        let launch = RuntimeLaunch(context: context(env: ["HOME": "/home/u"]), roster: roster)
        #expect(throws: LaunchError.workdirMissing(agent: "w", path: "/home/u/no-such-dir")) {
            try launch.session(for: AgentSpec(name: "w", runtime: .stub, workdir: "~/no-such-dir"))
        }
    }

    @Test("shell quoting survives quotes, spaces and metacharacters")
    func quoting() async throws {
        let words = ["plain", "two words", "it's", "$(id)", "a;b", "", "*"]
        let line = "printf '%s\\n' " + ShellQuote.join(words)
        let result = try await SpawnRunner().run(Invocation("sh", ["-c", line]))
        #expect(result.stdout == words.map { $0 + "\n" }.joined())
    }
}
