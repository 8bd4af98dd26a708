import Foundation
import Testing
@testable import FleetCore

/// tmux command construction for watch, attach, send, reset and tail, asserted on a recording runner.
@Suite("steering: tmux command construction")
struct SteerCommandTests {
    func tmux(_ runner: RecordingRunner) throws -> Tmux {
        Tmux(socket: try TmuxSocket("fleet-sock"), configFile: "/h/fleet/tmux.conf", runner: runner, timeout: .seconds(5))
    }

    static let prefix = ["-L", "fleet-sock", "-f", "/h/fleet/tmux.conf"]

    @Test("a watcher's client attaches read-only and size-ignoring to =agent, in a key table where only q and C-b d act")
    func viewer() throws {
        let t = try tmux(RecordingRunner())
        let inv = t.watchInvocation(agent: "ana")
        #expect(inv.executable == "tmux")
        #expect(Array(inv.arguments.prefix(4)) == Self.prefix)
        let args = Array(inv.arguments.dropFirst(4))
        let attach = try #require(args.firstIndex(of: "attach-session"))
        #expect(Array(args[attach..<(attach + 5)]) == ["attach-session", "-f", "read-only,ignore-size", "-t", "=ana"])
        #expect(Array(args.suffix(3)) == ["switch-client", "-T", Viewer.keyTable])
        #expect(!args.contains("new-session"), "no throwaway session: nothing to destroy, nothing to leave behind")
        #expect(!args.contains("destroy-unattached"))
        #expect(!args.contains("-g"), "nothing global")
        #expect(!args.contains("-r") || args.contains("read-only,ignore-size"))
        #expect(inv.environment["TMUX"] == .some(nil))
        let bindings = Viewer.attachCommands(agent: "ana").filter { $0.first == "bind-key" }
        #expect(bindings.allSatisfy { $0[2].hasPrefix(Viewer.keyTable) }, "only the watch tables are bound, never prefix or root")
    }

    @Test("the control-mode client puts -C before its read-only attach; attach targets the exact session")
    func controlAndAttach() throws {
        let t = try tmux(RecordingRunner())
        let control = t.controlInvocation(agent: "ana")
        #expect(control.arguments == Self.prefix + ["-C", "attach-session", "-f", "read-only,ignore-size", "-t", "=ana"])
        let attach = t.attachInvocation(agent: "ana").arguments
        #expect(Array(attach.prefix(7)) == Self.prefix + ["attach-session", "-t", "=ana"])
        #expect(attach.last?.contains("full control") == true, "tmux itself shows the warning too")
    }

    @Test("killing agents' sessions is one batch of exact-match kills")
    func killBatch() async throws {
        let runner = RecordingRunner()
        try await tmux(runner).killSessions(["ana", "bob"])
        #expect(runner.invocations.count == 1)
        #expect(Array(runner.invocations[0].arguments.dropFirst(4)) == ["kill-session", "-t", "=ana", ";", "kill-session", "-t", "=bob"])
    }

    @Test("short text is typed literally after --; long text is loaded from stdin and pasted bracketed, buffer deleted")
    func typing() async throws {
        let runner = RecordingRunner()
        let t = try tmux(runner)
        try await t.typeLiteral(paneId: "%3", text: "-rf not a flag")
        try await t.paste(paneId: "%3", text: "line 1\nline 2", buffer: "mosaic-m1")
        try await t.pressKeys(paneId: "%3", ["Enter"])
        try await t.cancelCopyMode(paneId: "%3")
        let calls = runner.invocations.map { Array($0.arguments.dropFirst(4)) }
        #expect(calls[0] == ["send-keys", "-l", "-t", "%3", "--", "-rf not a flag"])
        #expect(calls[1] == ["load-buffer", "-b", "mosaic-m1", "-", ";", "paste-buffer", "-p", "-d", "-b", "mosaic-m1", "-t", "%3"])
        #expect(runner.invocations[1].standardInput == Data("line 1\nline 2".utf8))
        #expect(calls[2] == ["send-keys", "-t", "%3", "Enter"])
        #expect(calls[3] == ["send-keys", "-X", "-t", "%3", "cancel"])
        #expect(runner.invocations.allSatisfy { $0.timeout == .seconds(5) }, "every call is bounded")
    }

    @Test("a snapshot is one call: pane fields, then the screen with colours (no -J, rows keep their places)")
    func snapshot() async throws {
        let runner = RecordingRunner { _ in
            ProcessResult(status: 0, standardOutput: Data("%7\t0\t1\t0\t6\t1\t80\t24\tmosaic\nready\nstub> \u{1B}[2mghost\n".utf8))
        }
        let snap = try await tmux(runner).snapshot(agent: "ana")
        #expect(runner.invocations.count == 1)
        let args = Array(runner.invocations[0].arguments.dropFirst(4))
        #expect(args.first == "list-panes" && args.contains(";") && args.contains("capture-pane"))
        #expect(args.contains("-e") && !args.contains("-J"))
        #expect(args.filter { $0 == "=ana:" }.count == 2)
        #expect(snap == PaneSnapshot(paneId: "%7", dead: false, inMode: true, alternateOn: false, cursorX: 6, cursorY: 1,
                                     width: 80, height: 24, currentCommand: "mosaic", capture: "ready\nstub> \u{1B}[2mghost\n"))
    }

    @Test("tail reads history only as far as asked, joins wrapped lines, keeps colours only when asked")
    func tail() {
        #expect(Tmux.tailCommand(agent: "a", lines: nil, escapes: false).suffix(5) == ["capture-pane", "-p", "-J", "-t", "=a:"])
        #expect(Tmux.tailCommand(agent: "a", lines: 40, escapes: true).suffix(3) == ["-e", "-S", "-40"])
    }
}

/// The send pipeline on a scripted pane: what it types, and what it never types.
@Suite("steering: send decisions")
struct SenderTests {
    static func pane(_ screen: String, cursorX: Int, cursorY: Int = 0, command: String = "mosaic", inMode: Bool = false) -> String {
        "%1\t0\t\(inMode ? 1 : 0)\t0\t\(cursorX)\t\(cursorY)\t80\t24\t\(command)\n\(screen)\n"
    }

    func sender(_ runner: RecordingRunner, force: Bool = false, runtime: RuntimeKind = .stub) throws -> (Sender, String) {
        let dir = NSTemporaryDirectory() + "/sender-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var options = SendOptions()
        options.force = force
        options.readyTimeout = .milliseconds(200)
        options.echoTimeout = .milliseconds(200)
        let t = Tmux(socket: try TmuxSocket("s"), configFile: nil, runner: runner, timeout: .seconds(2))
        return (Sender(tmux: t, store: HeartbeatStore(directory: dir), agent: "ana", adapter: Runtimes.of(runtime), options: options), dir)
    }

    @Test("an operator's draft is refused: nothing typed, no Enter, verdict draft")
    func refusesDraft() async throws {
        let runner = RecordingRunner { _ in ProcessResult(status: 0, standardOutput: Data(Self.pane("stub> half typed", cursorX: 16).utf8)) }
        let (s, dir) = try sender(runner)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try await s.send(try Message(id: "m1", label: "l", text: "hello"))
        #expect(out.verdict == .draft && !out.typed && !out.submitted)
        #expect(runner.invocations.allSatisfy { !$0.arguments.contains("send-keys") && !$0.arguments.contains("paste-buffer") })
    }

    @Test("no prompt until the ready timeout: busy, nothing typed")
    func busy() async throws {
        let runner = RecordingRunner { _ in ProcessResult(status: 0, standardOutput: Data(Self.pane("working…\n", cursorX: 0, cursorY: 1).utf8)) }
        let (s, dir) = try sender(runner)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try await s.send(try Message(id: "m1", label: "l", text: "hello"))
        #expect(out.verdict == .busy && !out.typed)
        #expect(runner.invocations.allSatisfy { !$0.arguments.contains("send-keys") })
    }

    @Test("a busy heartbeat holds a send back, unless the input line holds the message it acknowledged last (a cancelled prompt put back)")
    func staleBusy() async throws {
        let restored = RecordingRunner { _ in ProcessResult(status: 0, standardOutput: Data(Self.pane("stub> [mosaic msg=m0 from=l] first", cursorX: 33).utf8)) }
        let (s, dir) = try sender(restored)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try s.store.write(Heartbeat(ts: Date(), pid: 1, status: "busy", ack: "m0"), for: "ana")
        let out = try await s.send(try Message(id: "m1", label: "l", text: "hello"))
        #expect(out.verdict == .draft && !out.typed, "a draft, not busy: \(out.reason)")
        // Anything else in the line, with that heartbeat: busy, nothing typed.
        let other = RecordingRunner { _ in ProcessResult(status: 0, standardOutput: Data(Self.pane("stub> someone else's words", cursorX: 26).utf8)) }
        let (s2, dir2) = try sender(other)
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        try s2.store.write(Heartbeat(ts: Date(), pid: 1, status: "busy", ack: "m0"), for: "ana")
        let busy = try await s2.send(try Message(id: "m1", label: "l", text: "hello"))
        #expect(busy.verdict == .busy && !busy.typed, "\(busy.reason)")
        #expect(Sender.restoredPrompt("[mosaic msg=m0 from=l] first", ack: "m0") && !Sender.restoredPrompt("[mosaic msg=m00 from=l] x", ack: "m0"))
        #expect(!Sender.restoredPrompt("[mosaic msg=m0 from=l] first", ack: nil))
    }

    @Test("copy mode is cancelled before anything is read as the input line")
    func copyMode() async throws {
        let calls = Counter()
        let runner = RecordingRunner { inv in
            if inv.arguments.contains("list-panes") {
                return ProcessResult(status: 0, standardOutput: Data(Self.pane("stub> x", cursorX: 7, inMode: calls.next() == 1).utf8))
            }
            return ProcessResult(status: 0)
        }
        let (s, dir) = try sender(runner)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await s.send(try Message(id: "m1", label: "l", text: "hello"))
        let cancel = runner.invocations.firstIndex { $0.arguments.contains("cancel") }
        #expect(cancel == 1, "the second call cancels copy mode")
    }

    @Test("when the typed text does not show as exactly the message, Enter is never pressed")
    func noEnterOnForeignText() async throws {
        let runner = RecordingRunner { inv in
            inv.arguments.contains("list-panes")
                ? ProcessResult(status: 0, standardOutput: Data(Self.pane("stub> ", cursorX: 6).utf8))
                : ProcessResult(status: 0)
        }
        let (s, dir) = try sender(runner)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try await s.send(try Message(id: "m1", label: "l", text: "hello"))
        #expect(out.typed && !out.submitted)
        #expect(!runner.invocations.contains { $0.arguments.contains("Enter") })
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
