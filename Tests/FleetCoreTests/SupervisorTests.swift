import Foundation
import Testing
@testable import FleetCore

/// Seconds on a fixed test clock.
func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

extension Supervisor {
    static func fleet(_ names: [String], restart: RestartPolicy = .always, onHang: HangPolicy = .notify,
                      lifecycle: Lifecycle = Lifecycle(), startTimeout: Duration = .seconds(60)) -> Supervisor {
        Supervisor(policy: SupervisorPolicy(agents: names.map { .init(name: $0, restart: restart, onHang: onHang) },
                                            lifecycle: lifecycle, startTimeout: startTimeout))
    }

    /// Every agent in `panes` as given, healthy when running unless `health` says otherwise.
    mutating func see(_ panes: [String: PaneObservation], health: [String: HealthObservation] = [:], server: Bool = true,
                      _ now: Date) -> [SupervisorDecision] {
        observe(FleetObservation(serverRunning: server, agents: panes.map { name, pane in
            AgentObservation(name: name, pane: pane, health: health[name] ?? (pane == .running ? .healthy : .unknown))
        }), now: now)
    }
}

extension [SupervisorDecision] {
    var starts: [String] { compactMap { if case .start(let n) = $0 { n } else { nil } } }
    var restarts: [String] { compactMap { if case .restart(let n) = $0 { n } else { nil } } }
    var events: [SupervisorEvent] { compactMap { if case .event(let e) = $0 { e } else { nil } } }
    var kinds: [SupervisorEventKind] { events.map(\.kind) }
}

let crashed = PaneObservation.dead(AgentExit(status: 1, lastOutputLine: "boom"))

@Suite("supervisor: adoption, restart policies, backoff, crash loops")
struct SupervisorTests {
    @Test("first look adopts what runs (no starts), starts what is absent, restarts what is found dead")
    func adoption() {
        var s = Supervisor.fleet(["up", "missing", "dead"])
        let d = s.see(["up": .running, "dead": crashed], at(0))
        #expect(d.events.contains(.adopted("up")))
        #expect(!d.starts.contains("up") && !d.restarts.contains("up"))
        #expect(d.starts == ["missing"])
        #expect(d.restarts == ["dead"])
        #expect(d.events.contains(.exited("dead", AgentExit(status: 1, lastOutputLine: "boom"))))
        #expect(s.state(of: "up") == .running(since: at(0)))
        // A healthy running agent is never started or restarted, however often it is seen.
        for t in 1...50 {
            let again = s.see(["up": .running, "missing": .running, "dead": .running], at(Double(t)))
            #expect(again.starts.isEmpty && again.restarts.isEmpty)
        }
    }

    @Test("a daemon restarted mid-recovery adopts the agents it had started: no second copy")
    func readoption() {
        var s = Supervisor.fleet(["a", "b"])
        _ = s.see([:], at(0))
        var fresh = Supervisor.fleet(["a", "b"])
        let d = fresh.see(["a": .running, "b": .running], health: ["a": .unknown, "b": .unknown], at(1))
        #expect(d.starts.isEmpty && d.restarts.isEmpty)
        #expect(d.kinds == [.adopted, .adopted])
    }

    @Test("backoff: the first restart at once, then 1 s doubling up to the cap")
    func backoff() {
        var lifecycle = Lifecycle()
        lifecycle.backoff = .init(initial: .seconds(1), max: .seconds(8))
        lifecycle.crashLoop = .init(restarts: 100, window: .seconds(600))
        var s = Supervisor.fleet(["a"], lifecycle: lifecycle)
        _ = s.see(["a": .running], at(0))
        var now = 10.0, delays: [Duration] = []
        for _ in 0..<7 {
            let d = s.see(["a": crashed], at(now))
            if d.restarts == ["a"] {
                delays.append(.zero)
            } else {
                guard case .backoff(let until)? = s.state(of: "a") else { Issue.record("no backoff: \(d)"); return }
                #expect(d.contains(.wait("a", until: until)))
                delays.append(.seconds(until.timeIntervalSince(at(now))))
                #expect(s.see(["a": crashed], at(now + 0.5)).restarts.isEmpty, "no restart before the backoff ends")
                #expect(s.see(["a": crashed], at(until.timeIntervalSince(at(0)))).restarts == ["a"])
                now = until.timeIntervalSince(at(0))
            }
            now += 0.1
            _ = s.see(["a": .running], health: ["a": .unknown], at(now))
            now += 0.1
        }
        #expect(delays == [.zero, .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8)])
    }

    @Test("healthy for resetAfter: the next restart is immediate again")
    func reset() {
        var lifecycle = Lifecycle()
        lifecycle.resetAfter = .seconds(300)
        var s = Supervisor.fleet(["a"], lifecycle: lifecycle)
        _ = s.see(["a": .running], at(0))
        #expect(s.see(["a": crashed], at(1)).restarts == ["a"])
        _ = s.see(["a": .running], at(2))
        #expect(s.see(["a": crashed], at(3)).restarts.isEmpty, "second death in a row: a backoff")
        _ = s.see(["a": crashed], at(4))
        _ = s.see(["a": .running], at(5))
        _ = s.see(["a": .running], at(200))
        #expect(s.see(["a": crashed], at(250)).restarts.isEmpty, "healthy 245 s: not yet reset")
        _ = s.see(["a": crashed], at(260))
        _ = s.see(["a": .running], at(261))
        _ = s.see(["a": .running], at(561))
        #expect(s.see(["a": crashed], at(562)).restarts == ["a"], "healthy 300 s: reset")
    }

    @Test("a runtime that exits at once ends failed after the configured restarts, not an endless loop")
    func crashLoop() {
        var s = Supervisor.fleet(["false"])
        var starts = 0, restarts = 0, now = 0.0, failed: [SupervisorDecision] = []
        var last = s.see([:], at(now))
        for _ in 0..<200 {
            starts += last.starts.count
            restarts += last.restarts.count
            failed += last.filter { if case .markFailed = $0 { true } else { false } }
            now = s.nextDeadline().map { max(now + 0.1, $0.timeIntervalSince(at(0))) } ?? now + 1
            last = s.see(["false": .dead(AgentExit(status: 1, lastOutputLine: "false: exited"))], at(now))
        }
        #expect(starts == 1)
        #expect(restarts == 5)
        #expect(failed == [.markFailed("false", .crashLoop(restarts: 5, window: .seconds(600)))])
        guard case .failed(.crashLoop(5, _), let exit)? = s.state(of: "false") else { Issue.record("\(String(describing: s.state(of: "false")))"); return }
        #expect(exit?.status == 1 && exit?.lastOutputLine == "false: exited")
        #expect(s.restarts(of: "false", now: at(now)) == 5)
    }

    @Test("restarts spread wider than the window never make a crash loop")
    func window() {
        var lifecycle = Lifecycle()
        lifecycle.crashLoop = .init(restarts: 2, window: .seconds(60))
        lifecycle.resetAfter = .seconds(10)
        var s = Supervisor.fleet(["a"], lifecycle: lifecycle)
        _ = s.see(["a": .running], at(0))
        for i in 1...10 {
            let t = Double(i) * 40
            #expect(s.see(["a": crashed], at(t)).restarts == ["a"], "death \(i)")
            _ = s.see(["a": .running], at(t + 1))
            _ = s.see(["a": .running], at(t + 12))
        }
        #expect(s.restarts(of: "a", now: at(400)) == 2)
    }

    @Test("failed is cleared by fleet up NAME: restarts count from zero again")
    func cleared() {
        var lifecycle = Lifecycle()
        lifecycle.crashLoop = .init(restarts: 1, window: .seconds(600))
        var s = Supervisor.fleet(["a"], lifecycle: lifecycle)
        _ = s.see(["a": .running], at(0))
        _ = s.see(["a": crashed], at(1))
        _ = s.see(["a": .running], at(2))
        let d = s.see(["a": crashed], at(3))
        #expect(d.kinds.contains(.failed))
        #expect(s.see(["a": crashed], at(100)).isEmpty, "failed: nothing more")
        #expect(s.cleared("a", now: at(200)).isEmpty)
        #expect(s.state(of: "a") == .starting(since: at(200)))
        _ = s.see(["a": .running], at(201))
        #expect(s.see(["a": crashed], at(202)).restarts == ["a"])
    }

    @Test("an explicit stop is never undone: no start, however long it stays down")
    func stop() {
        var s = Supervisor.fleet(["a", "b"])
        _ = s.see(["a": .running, "b": .running], at(0))
        #expect(s.stoppedByUser("a", actor: "alice", now: at(1)) == [.event(.stopped("a", actor: "alice"))])
        for t in 2...100 {
            let d = s.see(["b": .running], at(Double(t)))
            #expect(d.starts.isEmpty && d.restarts.isEmpty)
        }
        #expect(s.state(of: "a") == .stoppedByUser(actor: "alice", at: at(1)))
        // The journal's stops survive a daemon restart.
        var next = Supervisor(policy: s.policy, stopped: ["a": ("alice", at(1))])
        let d = next.see(["b": .running], at(200))
        #expect(d.starts.isEmpty && d.restarts.isEmpty)
    }

    @Test("on-failure restarts after a non-zero status, a signal or an unseen end, never after exit 0")
    func onFailure() {
        for (pane, restarts) in [(PaneObservation.dead(AgentExit(status: 0)), false), (.dead(AgentExit(status: 2)), true),
                                 (.dead(AgentExit(signal: 9)), true), (.absent, true)] {
            var s = Supervisor.fleet(["a"], restart: .onFailure)
            _ = s.see(["a": .running], at(0))
            #expect(s.see(["a": pane], at(1)).restarts == (restarts ? ["a"] : []), "\(pane)")
            if !restarts { #expect(s.state(of: "a") == .exited(AgentExit(status: 0))) }
        }
    }

    @Test("never: a dead agent stays dead; an absent one is not started")
    func never() {
        var s = Supervisor.fleet(["a", "b"], restart: .never)
        let first = s.see(["a": .running], at(0))
        #expect(first.starts.isEmpty)
        let d = s.see(["a": .dead(AgentExit(signal: 15))], at(1))
        #expect(d.restarts.isEmpty && d.events == [.exited("a", AgentExit(signal: 15))])
    }

    @Test("hung: an event always, once; a restart only with onHang: restart; recovered when healthy again")
    func hung() {
        var s = Supervisor.fleet(["a"])
        _ = s.see(["a": .running], at(0))
        #expect(s.see(["a": .running], health: ["a": .hung(.heartbeatStale)], at(1)).events == [.hung("a", .heartbeatStale)])
        #expect(s.see(["a": .running], health: ["a": .hung(.heartbeatStale)], at(2)).isEmpty)
        #expect(s.see(["a": .running], at(3)).events == [.recovered("a")])

        var r = Supervisor.fleet(["a"], onHang: .restart)
        _ = r.see(["a": .running], at(0))
        let d = r.see(["a": .running], health: ["a": .hung(.silentWhileBusy)], at(1))
        #expect(d.events.first == .hung("a", .silentWhileBusy))
        #expect(d.restarts == ["a"])
    }

    @Test("a hung agent waiting for a start slot that is healthy again is not restarted")
    func hungRecoversBeforeSlot() {
        var lifecycle = Lifecycle()
        lifecycle.maxConcurrentStarts = 1
        var s = Supervisor.fleet(["a", "b"], onHang: .restart, lifecycle: lifecycle)
        _ = s.see(["a": .running], at(0))
        #expect(s.see(["a": .running, "b": .running], health: ["a": .hung(.probeUnanswered), "b": .unknown], at(1)).restarts.isEmpty, "b's start holds the slot")
        let d = s.see(["a": .running, "b": .running], at(2))
        #expect(d.restarts.isEmpty)
        #expect(d.events == [.recovered("a")])
        #expect(s.state(of: "a") == .running(since: at(2)))
    }

    @Test("a start never healthy within the start timeout frees its slot and is reported hung")
    func startTimeout() {
        var lifecycle = Lifecycle()
        lifecycle.maxConcurrentStarts = 1
        var s = Supervisor.fleet(["a", "b"], lifecycle: lifecycle, startTimeout: .seconds(30))
        #expect(s.see([:], at(0)).starts == ["a"])
        #expect(s.see(["a": .running], health: ["a": .unknown], at(10)).starts.isEmpty)
        let d = s.see(["a": .running], health: ["a": .unknown], at(31))
        #expect(d.events.contains(.hung("a", .neverHealthy)))
        #expect(d.starts == ["b"])
    }
}
