import Foundation
import Testing
@testable import FleetCore

@Suite("roster lifecycle policy")
struct RosterLifecycleTests {
    let loader = RosterLoader(defaults: .init(tenant: "t", host: "h"))

    @Test("a lifecycle block and per-agent policies parse with every field")
    func full() throws {
        let roster = try loader.parse("""
        version: 1
        lifecycle:
          restart: on-failure
          onHang: restart
          backoff: {initial: 500ms, max: 2m}
          resetAfter: 1h
          crashLoop: {restarts: 3, window: 90s}
          maxConcurrentStarts: 2
          massDeath: {fraction: 0.25, minAgents: 4, window: 30s}
        agents:
          - name: a
            runtime: stub
            restart: never
            onHang: notify
          - name: b
            runtime: stub
        """)
        let l = roster.lifecycle
        #expect(l.restart == .onFailure)
        #expect(l.onHang == .restart)
        #expect(l.backoff == .init(initial: .milliseconds(500), max: .seconds(120)))
        #expect(l.resetAfter == .seconds(3600))
        #expect(l.crashLoop == .init(restarts: 3, window: .seconds(90)))
        #expect(l.maxConcurrentStarts == 2)
        #expect(l.massDeath == .init(fraction: 0.25, minAgents: 4, window: .seconds(30)))
        let a = try #require(roster.agent(named: "a")), b = try #require(roster.agent(named: "b"))
        #expect(a.restart == .never && a.onHang == .notify)
        #expect(b.restart == nil && b.onHang == nil, "unset: the fleet default applies, not a copy of it")
        #expect(roster.restartPolicy(of: a) == .never && roster.restartPolicy(of: b) == .onFailure)
        #expect(roster.hangPolicy(of: a) == .notify && roster.hangPolicy(of: b) == .restart)
    }

    @Test("without a lifecycle block the documented defaults apply")
    func defaults() throws {
        let roster = try loader.parse("version: 1\nagents:\n  - name: a\n    runtime: stub\n")
        #expect(roster.lifecycle == Lifecycle())
        let l = roster.lifecycle
        #expect(l.restart == .always && l.onHang == .notify)
        #expect(l.backoff.initial == .seconds(1) && l.backoff.max == .seconds(60))
        #expect(l.resetAfter == .seconds(300))
        #expect(l.crashLoop.restarts == 5 && l.crashLoop.window == .seconds(600))
        #expect(l.maxConcurrentStarts == 4)
        #expect(l.massDeath.fraction == 0.5 && l.massDeath.minAgents == 3 && l.massDeath.window == .seconds(10))
        #expect(roster.restartPolicy(of: roster.agents[0]) == .always)
    }

    @Test("durations: whole numbers with ms, s, m or h; anything else is refused")
    func durations() {
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("1s") == .seconds(1))
        #expect(DurationText.parse("5m") == .seconds(300))
        #expect(DurationText.parse("1h") == .seconds(3600))
        for bad in ["", "5", "s", "1.5s", "-1s", "1 s", "1sec", "1d", "5M", "ms", "10000000000s", "1s1"] {
            #expect(DurationText.parse(bad) == nil, "\(bad)")
        }
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.format(.seconds(90)) == "90s")
        #expect(DurationText.format(.seconds(300)) == "5m")
        #expect(DurationText.format(.seconds(7200)) == "2h")
    }

    static func lifecycleRoster(_ block: String) -> String {
        "version: 1\nlifecycle:\n\(block)\nagents:\n  - name: a\n    runtime: stub\n"
    }

    /// Each bad roster, the line the error must name, and phrases it must contain (the value and the fix).
    static let badRosters: [(String, Int, [String])] = [
        (lifecycleRoster("  restart: sometimes"), 3, ["\"sometimes\"", "always | on-failure | never"]),
        (lifecycleRoster("  onHang: kill"), 3, ["\"kill\"", "notify | restart"]),
        (lifecycleRoster("  backoff: {initial: 1, max: 60s}"), 3, ["lifecycle.backoff.initial", "\"1\"", "500ms, 1s, 5m, 1h"]),
        (lifecycleRoster("  backoff:\n    initial: 10s\n    max: 5s"), 5, ["shorter than backoff.initial", "make max at least initial"]),
        (lifecycleRoster("  resetAfter: five minutes"), 3, ["lifecycle.resetAfter", "not a duration"]),
        (lifecycleRoster("  resetAfter: 0s"), 3, ["at least 1ms"]),
        (lifecycleRoster("  crashLoop: {restarts: 0}"), 3, ["lifecycle.crashLoop.restarts", "from 1 to 1000"]),
        (lifecycleRoster("  crashLoop:\n    window: 10x"), 4, ["lifecycle.crashLoop.window", "\"10x\""]),
        (lifecycleRoster("  maxConcurrentStarts: many"), 3, ["lifecycle.maxConcurrentStarts", "from 1 to 1000"]),
        (lifecycleRoster("  massDeath: {fraction: 2}"), 3, ["lifecycle.massDeath.fraction", "at most 1"]),
        (lifecycleRoster("  massDeath: {window: 1.5s}"), 3, ["lifecycle.massDeath.window", "not a duration"]),
        (lifecycleRoster("  retries: 3"), 3, ["unknown key \"retries\" in `lifecycle`", "allowed keys"]),
        (lifecycleRoster("  backoff: {initial: 1s, factor: 2}"), 3, ["unknown key \"factor\" in `lifecycle.backoff`"]),
        (lifecycleRoster("  massDeath: {min: 3}"), 3, ["unknown key \"min\" in `lifecycle.massDeath`"]),
        ("version: 1\nagents:\n  - name: a\n    runtime: stub\n    restart: on_failure\n", 5,
         ["restart of agent \"a\"", "\"on_failure\"", "always | on-failure | never"]),
        ("version: 1\nagents:\n  - name: a\n    runtime: stub\n    onHang: [restart]\n", 5, ["single value"]),
        ("version: 1\nagents:\n  - name: a\n    runtime: stub\n    onhang: restart\n", 5, ["unknown key \"onhang\""]),
    ]

    @Test("a bad policy or duration is refused with the file, the line and the fix", arguments: badRosters.indices)
    func refused(_ index: Int) throws {
        let (text, line, phrases) = Self.badRosters[index]
        do {
            _ = try loader.parse(text, path: "/h/fleet/roster.yaml")
            Issue.record("roster #\(index) was accepted")
        } catch let error as RosterError {
            let message = error.description
            #expect(message.hasPrefix("/h/fleet/roster.yaml:\(line):"), "\(message)")
            for phrase in phrases { #expect(message.contains(phrase), "\(message)") }
        }
    }
}
