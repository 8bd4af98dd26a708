import Foundation
import Testing
@testable import FleetCore

/// The daemon's lifecycle report as `ps` reads it: believed only while current, joined into the
/// rows, shown in two columns and in the closing sentence, and in `--json` under `lifecycle`.
@Suite("the daemon's lifecycle report in ps")
struct LifecycleReportTests {
    static let now = SampleFleet.now

    static func report(updated: Date, agents: [String: AgentLifecycle], recovery: LifecycleReport.Recovery? = nil) -> LifecycleReport {
        LifecycleReport(daemonPid: 4242, updated: updated, interval: .seconds(5), recovery: recovery, agents: agents)
    }

    static let crashed = AgentLifecycle(.failed(.crashLoop(restarts: 5, window: .seconds(600)),
                                                lastExit: AgentExit(status: 1, lastOutputLine: "Error: no API key")),
                                        restarts: 6, lastExit: nil)

    @Test("each supervisor state becomes its row: the state's name, its times, the reason, restarts and last exit")
    func states() {
        let at = Self.now
        let running = AgentLifecycle(.running(since: at), restarts: 0, lastExit: nil)
        #expect(running.state == .running && running.since == Timestamp.format(at) && running.cell(now: at) == "running")
        let backoff = AgentLifecycle(.backoff(until: at.addingTimeInterval(8)), restarts: 2, lastExit: AgentExit(signal: 9))
        #expect(backoff.cell(now: at) == "backoff 8s")
        #expect(backoff.cell(now: at.addingTimeInterval(30)) == "backoff 0ms", "never negative")
        let stopped = AgentLifecycle(.stoppedByUser(actor: "alice", at: at), restarts: 0, lastExit: nil)
        #expect(stopped.state == .stoppedByUser && stopped.cell(now: at) == "stopped by alice")
        #expect(AgentLifecycle(.recovering, restarts: 1, lastExit: nil).cell(now: at) == "recovering")
        #expect(AgentLifecycle(.exited(AgentExit(status: 0)), restarts: 0, lastExit: nil).lastExit == AgentExit(status: 0))
        #expect(Self.crashed.state == .failed)
        #expect(Self.crashed.reason == "crash loop: more than 5 restarts within 10m")
        #expect(Self.crashed.failureSentence == "failed (crash loop: more than 5 restarts within 10m), last exit status 1: \"Error: no API key\"")
        #expect(running.failureSentence == nil)
    }

    @Test("written and read back unchanged, every key present with null where unknown")
    func roundTrip() throws {
        let report = Self.report(updated: Self.now, agents: ["a": Self.crashed, "b": AgentLifecycle(.recovering, restarts: 0, lastExit: nil)],
                                 recovery: .init(done: 1, total: 3))
        let text = try report.serialized()
        #expect(LifecycleReport.parse(text) == report)
        #expect(text.contains("\"b\":{\"state\":\"recovering\",\"since\":null,\"until\":null,\"reason\":null,\"restarts\":0,\"lastExit\":null}"), "\(text)")
        #expect(LifecycleReport.parse("{\"daemonPid\": 1") == nil, "a torn file is no report")
        let newer = #"{"state":"paused","since":null,"until":null,"reason":null,"restarts":0,"lastExit":null}"#
        #expect(try JSONDecoder().decode(AgentLifecycle.self, from: Data(newer.utf8)).state == .other("paused"), "a state from a newer daemon still reads")
    }

    @Test("a current report is joined into the rows; a stale one is not believed and ps says the daemon is gone")
    func joined() {
        var readings = SampleFleet.readings
        readings.lifecycle = Self.report(updated: Self.now.addingTimeInterval(-4), agents: ["crashed": Self.crashed], recovery: .init(done: 2, total: 3))
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: Self.now)
        #expect(snapshot.daemonPid == 4242 && snapshot.recovery == .init(done: 2, total: 3))
        #expect(snapshot.agents.first { $0.name == "crashed" }?.lifecycle == Self.crashed)
        #expect(snapshot.agents.first { $0.name == "coder" }?.lifecycle == nil, "an agent the report does not name has none")
        #expect(snapshot.warnings.isEmpty)

        readings.lifecycle = Self.report(updated: Self.now.addingTimeInterval(-120), agents: ["crashed": Self.crashed])
        let stale = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: Self.now)
        #expect(stale.daemonPid == nil && stale.agents.allSatisfy { $0.lifecycle == nil })
        #expect(stale.warnings == ["the fleet daemon (pid 4242) last reported 2m ago: it is not running or is stuck; restarts are not happening (`mosaic fleet up` starts it, its log is in the fleet directory)"])

        readings.lifecycle = Self.report(updated: Self.now.addingTimeInterval(60), agents: [:])
        #expect(FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: Self.now).daemonPid == nil, "a report from the future is not current")
    }

    @Test("the table gains LIFECYCLE and RESTARTS only under a daemon, and a failed agent's sentence says why and how it last ended")
    func table() throws {
        let plain = SnapshotRenderer.table(SampleFleet.snapshot, width: 400, color: false)
        #expect(!plain.contains("LIFECYCLE"))
        var readings = SampleFleet.readings
        readings.lifecycle = Self.report(updated: Self.now, agents: [
            "crashed": Self.crashed,
            "coder": AgentLifecycle(.running(since: Self.now), restarts: 1, lastExit: nil),
            "killed": AgentLifecycle(.backoff(until: Self.now.addingTimeInterval(8)), restarts: 2, lastExit: AgentExit(signal: 9)),
        ], recovery: .init(done: 1, total: 2))
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: Self.now)
        let table = SnapshotRenderer.table(snapshot, width: 400, color: false, now: Self.now)
        #expect(table.hasPrefix("tenant jarvis · host w-jarvis · socket "), "\(table)")
        #expect(table.contains(" · daemon 4242 · recovering 1/2\n"), "\(table)")
        let lines = table.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("AGENT") })
        #expect(header.contains("LIFECYCLE") && header.contains("RESTARTS"))
        func cells(_ name: String) -> [String] {
            (lines.first { $0.hasPrefix(name + " ") } ?? "").split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        #expect(cells("coder").contains("running"))
        #expect(cells("killed").contains("8s") && cells("killed").contains("backoff"))
        #expect(cells("crashed").contains("failed") && cells("crashed").contains("6"))
        #expect(cells("gone").contains("-"), "no report for it: a dash")
        #expect(table.contains("crashed: exited with status 1"), "\(table)")
        #expect(table.contains("failed (crash loop: more than 5 restarts within 10m), last exit status 1: \"Error: no API key\""), "\(table)")
    }

    @Test("a oneshot agent unit still active after its pane died: ps names the disagreement instead of showing it silently")
    func planesDisagree() {
        var readings = SampleFleet.readings
        readings.units = (readings.units ?? []) + [UnitState(name: "mosaic-agent@killed.service", load: "loaded", active: "active", sub: "exited")]
        let snapshot = FleetSnapshot.join(roster: SampleFleet.roster, readings: readings, now: Self.now)
        let killed = snapshot.agents.first { $0.name == "killed" }
        #expect(killed?.session == .dead && killed?.systemdActive == true)
        #expect(killed?.problems.contains(.unitActiveWithoutPane) == true, "\(String(describing: killed?.problems))")
        #expect(Problem(sentence: Problem.unitActiveWithoutPane.sentence) == .unitActiveWithoutPane)
        #expect(snapshot.agents.first { $0.name == "coder" }?.problems.contains(.unitActiveWithoutPane) == false, "active with a live pane agrees")
    }
}
