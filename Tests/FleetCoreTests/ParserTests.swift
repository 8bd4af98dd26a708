import Foundation
import Testing
@testable import FleetCore

@Suite("parsers of real tool output")
struct ParserTests {
    /// Captured from tmux 3.3a `list-panes -a -F PaneFormat.format` with remain-on-exit: one live
    /// pane, one dead by `kill -9` (a signal, no status), one dead by `exit 3`.
    static let listPanes = "one\t0\t%0\t28624\t0\t\t\t1795646763\t0\t100\t30\tsleep\n"
        + "three\t0\t%2\t28629\t1\t\t9\t1795646763\t0\t80\t24\tsh\n"
        + "two words\t0\t%1\t28626\t1\t3\t\t1795646763\t0\t80\t24\tsh\n"

    @Test("list-panes output parses into panes; dead panes keep their exit status or the signal that ended them")
    func panes() {
        let panes = PaneFormat.parse(Self.listPanes)
        #expect(panes == [
            PaneInfo(sessionName: "one", paneId: "%0", pid: 28624, windowActivity: 1_795_646_763, width: 100, height: 30,
                     currentCommand: "sleep"),
            PaneInfo(sessionName: "three", paneId: "%2", pid: 28629, dead: true, deadSignal: 9,
                     windowActivity: 1_795_646_763, currentCommand: "sh"),
            PaneInfo(sessionName: "two words", paneId: "%1", pid: 28626, dead: true, deadStatus: 3,
                     windowActivity: 1_795_646_763, currentCommand: "sh"),
        ])
        #expect(PaneFormat.signalName(9) == "SIGKILL" && PaneFormat.signalName(64) == "signal 64")
    }

    @Test("a dead pane's last output: its last non-empty lines, without the line tmux adds")
    func lastOutput() {
        let capture = "starting\n\nError: ANTHROPIC_API_KEY is not set\n   \nPane is dead (status 1, Wed Nov 25 22:45:04 2026)\n\n"
        #expect(PaneFormat.lastOutput(capture) == ["starting", "Error: ANTHROPIC_API_KEY is not set"])
        #expect(PaneFormat.lastOutput(capture, count: 1) == ["Error: ANTHROPIC_API_KEY is not set"])
        #expect(PaneFormat.lastOutput("\n\n").isEmpty)
    }

    @Test("malformed list-panes lines are skipped, never guessed")
    func malformedPanes() {
        #expect(PaneFormat.parse("garbage\nonly\tthree\tfields\n\n").isEmpty)
    }

    @Test("the pane format is tab-separated with free text last")
    func paneFormat() {
        #expect(PaneFormat.format.split(separator: "\t").count == PaneFormat.fields.count)
        #expect(PaneFormat.fields.last == "pane_current_command")
    }

    @Test("/proc stat parses even when comm holds spaces and parentheses")
    func procStat() {
        #expect(ProcessSample.parseStat("9368 (cat) R 9288 9288 1319 0 -1 4194304") == ProcessSample(pid: 9368, comm: "cat", state: "R"))
        #expect(ProcessSample.parseStat("1 (process_api) S 0 0 0") == ProcessSample(pid: 1, comm: "process_api", state: "S"))
        let odd = ProcessSample.parseStat("77 (a) b (c)) T 1 1")
        #expect(odd?.comm == "a) b (c)")
        #expect(odd?.isStopped == true)
        #expect(ProcessSample.parseStat("nonsense") == nil)
    }

    @Test("the process table reads this very process from /proc")
    func processTable() throws {
        let me = try #require(ProcessTable().sample(getpid()))
        #expect(me.pid == getpid())
        #expect(!me.comm.isEmpty)
        #expect(ProcessTable().sample(-5) == nil)
    }
}
