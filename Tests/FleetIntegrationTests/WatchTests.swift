import Foundation
import Testing
@testable import FleetCore

/// `agent watch` and `attach` with clients on real pseudo-terminals against a real tmux server.
@Suite("watch: read-only viewers on a real tmux server", .serialized)
struct WatchTests {
    /// The read-only clients attached to `agent`'s session: one per watcher.
    func watchers(_ fleet: TestFleet, _ agent: String) async throws -> Int {
        let clients = try await fleet.tmux.run(["list-clients", "-F", "#{client_session}\t#{client_flags}"]).stdout
        return clients.split(separator: "\n").filter { $0.hasPrefix("\(agent)\t") && $0.contains("read-only") }.count
    }

    func sessions(_ fleet: TestFleet) async throws -> [String] {
        try await fleet.tmux.run(["list-sessions", "-F", "#{session_name}"]).stdout.split(separator: "\n").map(String.init).sorted()
    }

    func windowSize(_ fleet: TestFleet, _ agent: String) async throws -> String {
        try await fleet.tmux.run(["list-windows", "-t", "=\(agent)", "-F", "#{window_width}x#{window_height}"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func watcher(_ fleet: TestFleet, _ agent: String, rows: UInt16, columns: UInt16) throws -> PtyClient {
        try PtyClient([TestFleet.mosaicBinary, "agent", "watch", agent], environment: fleet.environment, rows: rows, columns: columns)
    }

    @Test("watchers of any size never resize the agent's window and their keystrokes never reach the pane")
    func readOnlyAndSize() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["eye"]))
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await fleet.waitUntil("the stub's prompt") { try await fleet.mosaic(["agent", "tail", "eye"]).stdout.contains("stub>") }
        let before = try await windowSize(fleet, "eye")
        #expect(before == "200x50")

        let small = try watcher(fleet, "eye", rows: 12, columns: 40)
        let large = try watcher(fleet, "eye", rows: 90, columns: 320)
        let sessionsBefore = try await sessions(fleet)
        try await fleet.waitUntil("two read-only watchers on the agent's session") { try await watchers(fleet, "eye") == 2 }
        #expect(try await sessions(fleet) == sessionsBefore, "watching creates no session")
        #expect(try await windowSize(fleet, "eye") == before, "a 40x12 and a 320x90 watcher changed nothing")

        for client in [small, large] {
            client.type("typed-by-a-watcher\r")
            client.type("\u{02}:kill-server\r")   // C-b : is bound to nothing for a watcher
            client.type("\u{03}\u{04}")            // C-c, C-d: would end the stub if they reached it
        }
        try await Task.sleep(for: .milliseconds(600))
        let screen = try await fleet.mosaic(["agent", "tail", "eye"]).stdout
        #expect(!screen.contains("typed-by-a-watcher"), "a watcher's keys reached the pane:\n\(screen)")
        #expect(try await fleet.row("eye")?["paneAlive"] as? Bool == true)
        #expect(small.screenText.contains("stub>"), "the watcher sees the agent's screen")

        // Sending works while watched, and the watchers see it.
        let sent = try await fleet.mosaic(["agent", "send", "eye", "-m", "seen by watchers", "--verify"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        try await fleet.waitUntil("the watcher shows the reply") { large.screenText.contains("seen by watchers") }
        #expect(try await windowSize(fleet, "eye") == before)
        let strays = try await fleet.ps().filter { $0["kind"] as? String == "stray" }
        #expect(strays.isEmpty, "watchers create no strays: \(strays)")
    }

    @Test("nothing survives a watcher: not after q, not after C-b d, not after kill -9, and the server stays up")
    func watcherCleanup() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["eye"]))
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let sessionsBefore = try await sessions(fleet)
        let serverPid = try await fleet.tmux.run(["display-message", "-p", "#{pid}"]).stdout
        // A standing watcher while others come and go: the case that crashed tmux 3.3a's server
        // with grouped viewer sessions (see Tmux+Viewer.swift). Repeated to give a race a chance.
        let standing = try watcher(fleet, "eye", rows: 30, columns: 100)
        try await fleet.waitUntil("the standing watcher") { try await watchers(fleet, "eye") == 1 }
        for _ in 0..<5 {
            let killed = try watcher(fleet, "eye", rows: 24, columns: 80)
            try await fleet.waitUntil("a second watcher") { try await watchers(fleet, "eye") == 2 }
            killed.signal(SIGKILL)   // the pid is tmux's client itself: mosaic exec'd it
            try await fleet.waitUntil("the killed watcher is gone") { try await watchers(fleet, "eye") == 1 }
        }
        let polite = try watcher(fleet, "eye", rows: 24, columns: 80)
        try await fleet.waitUntil("a second watcher again") { try await watchers(fleet, "eye") == 2 }
        polite.type("x")   // an unbound key is swallowed and keeps the watcher in its table
        polite.type("q")
        try await fleet.waitUntil("q detaches") { polite.exited() }
        // As a person types it: C-b, then d. In one read the d can be lost (the swallowed C-b
        // puts the client back into its table through tmux's queue; README, known limit).
        standing.type("\u{02}")
        try await Task.sleep(for: .milliseconds(150))
        standing.type("d")
        try await fleet.waitUntil("C-b d detaches") { standing.exited() }
        #expect(try await watchers(fleet, "eye") == 0)
        #expect(try await sessions(fleet) == sessionsBefore, "no session was created or left behind")
        #expect(try await fleet.tmux.run(["display-message", "-p", "#{pid}"]).stdout == serverPid, "the same server still runs")
        #expect(try await fleet.row("eye")?["healthy"] as? Bool == true)
        #expect(!(try await fleet.mosaic(["agent", "tail", "eye"]).stdout.contains("stub reply")), "no watcher key reached the agent")
    }

    @Test("stopping a watched agent ends its watchers and nothing of the pane lives on")
    func downWhileWatched() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["eye", "other"]))
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let w = try watcher(fleet, "eye", rows: 24, columns: 80)
        try await fleet.waitUntil("a watcher") { try await watchers(fleet, "eye") == 1 }
        #expect(try await fleet.mosaic(["fleet", "down", "eye"]).status == 0)
        #expect(try await sessions(fleet) == ["_holder", "other"])
        let panes = try await fleet.tmux.listPanes() ?? []
        #expect(!panes.contains { $0.currentCommand == "mosaic" && $0.sessionName != "other" }, "\(panes)")
        try await fleet.waitUntil("the watcher exits") { w.exited() }
    }

    @Test("without a terminal, watch streams the pane's output as text, and leaves nothing when killed")
    func streamWithoutTerminal() async throws {
        do {
            let fleet = try TestFleet()
            try fleet.writeRoster(agents: TestFleet.stubs(["eye"]))
            let up = try await fleet.mosaic(["fleet", "up"])
            #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
            let out = try TestFleet.makeTempDirectory("watch-out") + "/out"
            defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
            FileManager.default.createFile(atPath: out, contents: nil)
            let stdin = Pipe()  // held open by this test: watch must not take EOF as the end
            let process = try ChildProcess(Invocation(TestFleet.mosaicBinary, ["agent", "watch", "eye"], environment: fleet.environment),
                                           stdin: .descriptor(stdin.fileHandleForReading.fileDescriptor), stdout: .file(out))
            defer { process.signal(SIGKILL); process.wait() }
            let sessionsBefore = try await sessions(fleet)
            try await fleet.waitUntil("the control client is attached") { try await watchers(fleet, "eye") == 1 }
            try await fleet.waitUntil("the initial screen") { (FileIO.readSmall(out) ?? "").contains("stub>") }
            #expect(try await fleet.mosaic(["agent", "send", "eye", "-m", "streamed words", "--verify"]).status == 0)
            try await fleet.waitUntil("the reply streams") { (FileIO.readSmall(out) ?? "").contains("stub reply #1") }
            let text = FileIO.readSmall(out) ?? ""
            #expect(!text.contains("\u{1B}") && !text.contains("\r"), "plain text: no escapes, no CRs")
            process.signal(SIGKILL)
            try await fleet.waitUntil("kill -9 of watch leaves no client") { try await watchers(fleet, "eye") == 0 }
            #expect(try await sessions(fleet) == sessionsBefore)
            #expect(try await fleet.row("eye")?["healthy"] as? Bool == true)
        }
    }

    @Test("attach needs a terminal and says it is the verb that types")
    func attach() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(["eye"]))
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let piped = try await fleet.mosaic(["agent", "attach", "eye"], stdin: "")
        #expect(piped.status == 64)
        let help = try await fleet.mosaic(["agent", "attach", "--help"]).stdout
        #expect(help.contains("ONLY verb that types"))
        let client = try PtyClient([TestFleet.mosaicBinary, "agent", "attach", "eye"], environment: fleet.environment, rows: 24, columns: 80)
        try await fleet.waitUntil("the attached client sees the stub and the warning") {
            client.screenText.contains("stub>") && client.screenText.contains("full control")
        }
        client.type("typed through attach\r")
        try await fleet.waitUntil("attach types into the agent") {
            try await fleet.mosaic(["agent", "tail", "eye"]).stdout.contains("stub reply #1")
        }
        client.type("\u{02}d")
        try await fleet.waitUntil("C-b d detaches") { client.exited() }
        #expect(try await fleet.tmux.hasSession("eye"))
    }
}
