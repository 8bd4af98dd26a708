import Foundation
import Testing
@testable import FleetCore

/// The JavaScript plugins mosaic writes (pi's extension, opencode's status plugin), run by node:
/// each parses as kept and as written for an agent, and each passes on the frame `agent send`
/// writes, so the JavaScript and `MessageFrame` agree. node is on every machine that runs pi;
/// without it these tests fail and say so (install node, or set MOSAIC_NODE to its path).
@Suite("plugins under node", .serialized)
struct PluginTests {
    static let node: String? = ProcessInfo.processInfo.environment["MOSAIC_NODE"]
        ?? SpawnRunner.resolve("node")

    static var pluginDirectory: String { Repository.root + "/Sources/FleetCore/Runtime/Plugins" }

    func requireNode() throws -> String {
        guard let node = Self.node else {
            Issue.record("node is not on PATH: the plugins cannot be checked (install node, or set MOSAIC_NODE)")
            throw CancellationError()
        }
        return node
    }

    /// `node --check` on `source` as an ES module (node 20 takes `import` only in a `.mjs` file).
    func check(_ node: String, _ source: String, as name: String, in dir: String) throws -> ProcessResult {
        let path = "\(dir)/\(name).mjs"
        try FileIO.writeAtomically(source, to: path)
        return try SpawnRunner.runBlocking(Invocation(node, ["--check", path], timeout: .seconds(30)))
    }

    @Test("node --check accepts every plugin file, as kept in the package and as written for an agent")
    func syntax() throws {
        let node = try requireNode()
        let dir = try TestFleet.makeTempDirectory("plugins")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.pluginDirectory).filter { $0.hasSuffix(".js") || $0.hasSuffix(".ts") }
        #expect(files.count == PluginSource.all.count)
        for file in files {
            let result = try check(node, try String(contentsOfFile: Self.pluginDirectory + "/" + file, encoding: .utf8), as: file, in: dir)
            #expect(result.status == 0, "\(file): \(result.stderr)")
        }
        let hook = HookCommand(mosaic: "/opt/it's \"q\" \\ dir/mosaic", home: "/h ü", agent: "a1")
        let files2 = AgentRuntimeFiles(runDirectory: dir, agent: "a1")
        for kind in RuntimeKind.allCases {
            for file in Runtimes.of(kind).launch(IntegrationContext(agent: AgentSpec(name: "a1", runtime: kind), files: files2, hook: hook)).files
            where file.path.hasSuffix(".js") || file.path.hasSuffix(".ts") {
                let result = try check(node, file.contents, as: "written-\(kind.rawValue)", in: dir)
                #expect(result.status == 0, "\(kind) as written: \(result.stderr)")
            }
        }
    }

    @Test("a framed message reaches the hook through each plugin and is acknowledged; opencode's drops an unframed one")
    func frameAgreement() throws {
        let node = try requireNode()
        let dir = try TestFleet.makeTempDirectory("plugins")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The hook program records each call: its arguments and its standard input.
        let recorder = dir + "/record"
        try FileIO.writeAtomically("""
            #!/bin/sh
            for last; do :; done
            printf '%s\\n' "$@" > "\(dir)/$last.args"
            cat > "\(dir)/$last.json"

            """, to: recorder)
        chmod(recorder, 0o755)
        let hook = HookCommand(mosaic: recorder, home: "/h", agent: "a1")
        try FileIO.writeAtomically(OpencodeRuntime().pluginSource(hook), to: dir + "/opencode.mjs")
        try FileIO.writeAtomically(PiRuntime().extensionSource(hook), to: dir + "/pi.mjs")
        try FileIO.writeAtomically("""
            import { pathToFileURL } from "node:url";
            const [dir, framed, plain] = process.argv.slice(2);
            const { MosaicStatus } = await import(pathToFileURL(dir + "/opencode.mjs"));
            const opencode = await MosaicStatus();
            await opencode["chat.message"]({}, { parts: [{ type: "text", text: plain }] });
            await opencode["chat.message"]({}, { parts: [{ type: "text", text: framed }] });
            const handlers = {};
            (await import(pathToFileURL(dir + "/pi.mjs"))).default({ on: (type, f) => { handlers[type] = f; } });
            await handlers.input({ text: framed });

            """, to: dir + "/drive.mjs")
        let message = try Message(id: "m7-x", label: "ops@box", text: "Plan it.")
        let run = try SpawnRunner.runBlocking(Invocation(node, [dir + "/drive.mjs", dir, message.wireText, "typed by a person"], timeout: .seconds(30)))
        #expect(run.status == 0, "\(run.stderr)")
        // node exits once its children have: the records are complete.
        let chat = try #require(FileManager.default.contents(atPath: dir + "/chat.message.json"), "opencode passed the framed prompt on")
        #expect(try HookCall(runtime: .opencode, event: "chat.message", payload: chat).update()
                == StatusUpdate(status: nil, ack: "m7-x", event: "opencode:chat.message"))
        #expect(!String(decoding: chat, as: UTF8.self).contains("typed by a person"), "the unframed prompt was not passed on")
        #expect(FileIO.readSmall(dir + "/chat.message.args") == hook.argv(.opencode, "chat.message").dropFirst().joined(separator: "\n") + "\n")
        let input = try #require(FileManager.default.contents(atPath: dir + "/input.json"), "pi's input event reached the hook")
        #expect(try HookCall(runtime: .pi, event: "input", payload: input).update() == StatusUpdate(status: nil, ack: "m7-x", event: "pi:input"))
    }
}
