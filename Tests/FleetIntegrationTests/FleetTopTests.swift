import Foundation
import Testing
@testable import FleetCore

/// `fleet top` in a real terminal: an 80×24 pane of a tmux server of the test's own (not the
/// fleet's), driven with send-keys and read with capture-pane, as a person at a terminal would.
@Suite("fleet top", .serialized)
struct FleetTopTests {
    /// A terminal running `fleet top` for `fleet`, then printing its exit status and the
    /// terminal's settings, so what top left behind can be read from the screen.
    final class Terminal {
        let tmux: Tmux
        /// `NO_COLOR` is the tests' default (TestFleet); `color` lifts it for this terminal.
        init(fleet: TestFleet, color: Bool = false) async throws {
            tmux = Tmux(socket: try TmuxSocket("top-\(UUID().uuidString.prefix(8))"), configFile: "/dev/null", runner: fleet.runner)
            var env = ["env"]
            var environment = fleet.environment
            if color { environment["NO_COLOR"] = .some(nil) }
            // env takes its -u options before the assignments.
            let sorted = environment.sorted { $0.key < $1.key }
            env += sorted.filter { $0.value == nil }.flatMap { ["-u", $0.key] }
            env += sorted.compactMap { key, value in value.map { "\(key)=\($0)" } }
            let command = ShellQuote.join(env + [fleet.binary, "fleet", "top"]) + "; echo exit=$?; stty -a; sleep 600"
            try await tmux.run(["new-session", "-d", "-x", "80", "-y", "24", "-s", "t", command])
        }
        deinit {
            _ = try? SpawnRunner.runBlocking(tmux.invocation(["kill-server"]))
            // kill-server leaves the socket file behind; it is this test's own, so it goes too.
            unlink(TestFleet.socketFile(tmux.socket.name))
        }

        func screen(escapes: Bool = false) async throws -> String {
            try await tmux.run(["capture-pane", "-p", "-t", "=t:"] + (escapes ? ["-e"] : [])).stdout
        }

        func keys(_ keys: String...) async throws { try await tmux.run(["send-keys", "-t", "=t:"] + keys) }

        func type(_ text: String) async throws { try await tmux.run(["send-keys", "-t", "=t:", "-l", text]) }

        /// The `mosaic fleet top` process under the pane's shell.
        func topPid() async throws -> Int32? {
            let shell = try await tmux.run(["display-message", "-p", "-t", "=t:", "#{pane_pid}"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return ProcessTable().sample(Int32(shell) ?? 0)?.descendants.first { $0.comm == "mosaic" }?.pid
        }
    }

    static func fleet(_ names: [String]) async throws -> TestFleet {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: TestFleet.stubs(names), interval: 2)
        let up = try await fleet.mosaic(["fleet", "up"])
        #expect(up.status == 0, "\(up.stderr)")
        return fleet
    }

    func row(_ screen: String, _ agent: String) -> String? {
        screen.split(separator: "\n").map(String.init).first { $0.dropFirst(3).hasPrefix(agent + " ") }
    }

    @Test("the live table fits 80×24; a killed agent's row changes at the next redraw; keys move, send with a verdict, restart after y, watch and tail and come back; q restores the terminal")
    func liveTable() async throws {
        let fleet = try await Self.fleet(["alpha", "beta"])
        let terminal = try await Terminal(fleet: fleet, color: true)
        try await fleet.waitUntil("top shows both agents healthy") {
            let screen = try await terminal.screen()
            return screen.contains("2/2 healthy") && row(screen, "alpha") != nil && row(screen, "beta") != nil
        }
        let first = try await terminal.screen()
        let lines = first.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(first)")
        #expect(first.contains("↑↓ move · w watch · t tail · s send · r restart · q quit"))
        #expect(try #require(row(first, "alpha")).hasPrefix(">"), "the first agent is selected: \(first)")
        #expect(try await terminal.screen(escapes: true).contains("\u{1B}[7m"), "the selection is shown in reverse video")

        // A death shows at the next redraw: within a second plus one read of the planes (no daemon
        // here, so they are read afresh). 3 s leaves room for a loaded CI machine.
        let pid = try #require(try await fleet.row("alpha")?["panePid"] as? Int)
        let killed = ContinuousClock.now
        kill(pid_t(pid), SIGKILL)
        try await fleet.waitUntil("alpha's row says dead", timeout: .seconds(4)) {
            try row(await terminal.screen(), "alpha")?.contains("dead") == true
        }
        #expect(ContinuousClock.now - killed < .seconds(3), "shown after \(ContinuousClock.now - killed)")

        // Down to beta, send a line: the verdict of send --verify comes back.
        try await terminal.keys("j")
        try await fleet.waitUntil("beta is selected") { try row(await terminal.screen(), "beta")?.hasPrefix(">") == true }
        try await terminal.keys("s")
        try await terminal.type("hello from top")
        try await fleet.waitUntil("the prompt shows the text") { try await terminal.screen().contains("send to beta> hello from top_") }
        try await terminal.keys("Enter")
        try await fleet.waitUntil("the verdict is shown", timeout: .seconds(20)) {
            try await terminal.screen().contains("send to beta: accepted (message ")
        }

        // Tail shows beta's screen, with the message; any key returns.
        try await terminal.keys("t")
        try await fleet.waitUntil("the tail view shows the message") {
            let screen = try await terminal.screen()
            return screen.contains("beta: screen and history") && screen.contains("hello from top")
        }
        try await terminal.keys("x")
        try await fleet.waitUntil("back to the table") { try await terminal.screen().contains("↑↓ move") }

        // Watch hands the terminal to agent watch (read-only); q comes back to the table.
        try await terminal.keys("w")
        try await fleet.waitUntil("the watch shows beta's prompt") {
            let screen = try await terminal.screen()
            return screen.contains("stub>") && !screen.contains("↑↓ move")
        }
        try await terminal.keys("q")
        try await fleet.waitUntil("top is back") { try await terminal.screen().contains("left the watch of beta") }

        // Up to alpha, r then y: restarted, alive again.
        try await terminal.keys("Up", "r")
        try await fleet.waitUntil("the restart asks first") { try await terminal.screen().contains("restart alpha? y/n") }
        try await terminal.keys("y")
        try await fleet.waitUntil("alpha is restarted", timeout: .seconds(20)) {
            let screen = try await terminal.screen()
            return screen.contains("restarted alpha") && row(screen, "alpha")?.contains("alive") == true
        }
        #expect(try await fleet.row("alpha")?["paneAlive"] as? Bool == true)

        try await terminal.keys("q")
        // stty -a's output (it always names eol2) follows the exit status.
        try await fleet.waitUntil("top exits 0") {
            let screen = try await terminal.screen()
            return screen.contains("exit=0") && screen.contains("eol2")
        }
        let after = try await terminal.screen()
        #expect(after.contains(" icanon") && after.contains(" echo ") && !after.contains("-icanon"), "the terminal is cooked again: \(after)")
        #expect(!after.contains("AGENT"), "the alternate screen is left: \(after)")
    }

    @Test("NO_COLOR draws without colour; SIGTERM ends top with 143 and the terminal restored")
    func noColorAndSigterm() async throws {
        let fleet = try await Self.fleet(["solo"])
        let terminal = try await Terminal(fleet: fleet)
        #expect(fleet.environment["NO_COLOR"] == "1")
        try await fleet.waitUntil("top shows solo") { try row(await terminal.screen(), "solo") != nil }
        let coloured = try await terminal.screen(escapes: true)
        #expect(!coloured.contains("\u{1B}[3") && !coloured.contains("\u{1B}[7m"), "no colour codes: \(coloured.debugDescription)")
        #expect(try #require(row(try await terminal.screen(), "solo")).hasPrefix(">"), "the selection is marked without colour")

        let pid = try #require(try await terminal.topPid())
        kill(pid, SIGTERM)
        try await fleet.waitUntil("top exits on SIGTERM") {
            let screen = try await terminal.screen()
            return screen.contains("exit=143") && screen.contains("eol2")
        }
        let after = try await terminal.screen()
        #expect(after.contains(" icanon") && !after.contains("-icanon") && !after.contains("-echo "), "\(after)")
    }

    @Test("without a terminal, top refuses and says what to use instead")
    func noTerminal() async throws {
        let fleet = try await Self.fleet(["solo"])
        let result = try await fleet.mosaic(["fleet", "top"])
        #expect(result.status == 64, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("needs a terminal") && result.stderr.contains("fleet ps --json"), "\(result.stderr)")
    }
}
