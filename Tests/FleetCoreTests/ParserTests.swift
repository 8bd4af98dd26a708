import Foundation
import Testing
@testable import FleetCore

@Suite("parsers of real tool output")
struct ParserTests {
    /// Captured from tmux 3.3a `list-panes -a -F PaneFormat.format` (one live pane, one dead with remain-on-exit).
    static let listPanes = "one\t0\t%0\t9434\t0\t\t1795625983\t0\t100\t30\tsleep\n"
        + "two words\t0\t%1\t9438\t1\t3\t1795625983\t0\t80\t24\tsh\n"

    @Test("list-panes output parses into panes; dead panes keep their exit status")
    func panes() {
        let panes = PaneFormat.parse(Self.listPanes)
        #expect(panes == [
            PaneInfo(sessionName: "one", paneId: "%0", pid: 9434, windowActivity: 1_795_625_983, width: 100, height: 30,
                     currentCommand: "sleep"),
            PaneInfo(sessionName: "two words", paneId: "%1", pid: 9438, dead: true, deadStatus: 3,
                     windowActivity: 1_795_625_983, currentCommand: "sh"),
        ])
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
