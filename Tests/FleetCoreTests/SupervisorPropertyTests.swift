import Foundation
import Testing
@testable import FleetCore

/// A small seeded generator (SplitMix64), so a failing sequence can be replayed by its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("supervisor: invariants over random death and health sequences")
struct SupervisorPropertyTests {
    /// A world that does what the supervisor asks, kills panes at random, stops and clears agents,
    /// kills the server now and then, and lets some agents hang.
    @Test("never more than K in flight, never a start of a stopped agent or of a running one, backoff monotone until reset",
          arguments: 0..<30)
    func invariants(seed: Int) {
        var rng = SeededRandom(state: UInt64(seed) &* 7919 &+ 1)
        let names = (0..<8).map { "r\($0)" }
        var lifecycle = Lifecycle()
        lifecycle.maxConcurrentStarts = 3
        lifecycle.backoff = .init(initial: .seconds(1), max: .seconds(16))
        lifecycle.resetAfter = .seconds(30)
        lifecycle.crashLoop = .init(restarts: 4, window: .seconds(120))
        let policies: [RestartPolicy] = [.always, .onFailure, .never]
        let agents = names.enumerated().map { i, name in
            SupervisorPolicy.Agent(name: name, restart: policies[i % 3], onHang: i % 2 == 0 ? .restart : .notify)
        }
        var s = Supervisor(policy: SupervisorPolicy(agents: agents, lifecycle: lifecycle, startTimeout: .seconds(20)))
        var panes: [String: PaneObservation] = [:]
        var health: [String: HealthObservation] = [:]
        var server = true
        var stopped: Set<String> = []
        var now = 0.0
        // Backoff delays since the last reset, and since when each agent has been seen healthy.
        var lastDelay: [String: Duration] = [:]
        var healthySince: [String: Double] = [:]
        var resetAllowed: Set<String> = []
        var reportedHung: Set<String> = []

        for step in 0..<400 {
            now += Double(Int.random(in: 1...40, using: &rng)) / 10
            // The world changes.
            for name in names where server {
                let roll = Int.random(in: 0..<100, using: &rng)
                if panes[name] == .running {
                    if roll < 6 { panes[name] = .dead(AgentExit(status: Int32.random(in: 0...2, using: &rng))) }
                    else if roll < 9 { panes[name] = .dead(AgentExit(signal: 9)) }
                    else if roll < 14 { health[name] = .hung(.heartbeatStale) }
                    else if roll < 60 { health[name] = .healthy }
                } else if roll < 2, !stopped.contains(name) {
                    panes[name] = .running   // someone ran `fleet up NAME` by hand, not through the daemon
                    health[name] = .unknown
                }
            }
            if server && Int.random(in: 0..<100, using: &rng) < 2 {
                server = false
                panes = [:]
            } else if !server && Int.random(in: 0..<100, using: &rng) < 30 {
                server = true
            }
            let intent = Int.random(in: 0..<100, using: &rng)
            let target = names.randomElement(using: &rng)!
            if intent < 3 {
                _ = s.stoppedByUser(target, actor: "op", now: at(now))
                stopped.insert(target)
                panes[target] = nil
            } else if intent < 5, stopped.contains(target) || { if case .failed? = s.state(of: target) { true } else { false } }() {
                _ = s.cleared(target, now: at(now))
                stopped.remove(target)
                lastDelay[target] = nil
                if server { panes[target] = .running; health[target] = .unknown }
            }

            for name in names {
                if panes[name] == .running && health[name] == .healthy {
                    let since = healthySince[name] ?? now
                    healthySince[name] = since
                    if now - since >= lifecycle.resetAfter.timeInterval { resetAllowed.insert(name) }
                } else {
                    healthySince[name] = nil
                }
            }
            let before = panes
            let observation = FleetObservation(serverRunning: server, agents: names.compactMap { name in
                panes[name].map { AgentObservation(name: name, pane: $0, health: $0 == .running ? health[name] ?? .unknown : .unknown) }
            })
            let decisions = s.observe(observation, now: at(now))

            for event in decisions.events {
                if case .hung(let name, _) = event { reportedHung.insert(name) }
                if case .recovered(let name) = event { reportedHung.remove(name) }
            }
            #expect(s.startsInFlight <= lifecycle.maxConcurrentStarts, "seed \(seed) step \(step): \(s.startsInFlight) in flight")
            for name in decisions.starts + decisions.restarts {
                #expect(!stopped.contains(name), "seed \(seed) step \(step): started \(name), stopped by the operator")
                #expect(server, "seed \(seed) step \(step): a start while the server is gone")
                if before[name] == .running {
                    let hungRestart = agents.first { $0.name == name }?.onHang == .restart && reportedHung.contains(name)
                        && health[name] != .healthy
                    #expect(hungRestart, "seed \(seed) step \(step): restarted \(name), which ran and was not hung")
                }
                panes[name] = .running
                health[name] = .unknown
                reportedHung.remove(name)
            }
            for event in decisions.events {
                guard case .backoff(let name, let delay, _) = event else { continue }
                if let previous = lastDelay[name], delay < previous {
                    #expect(resetAllowed.contains(name), "seed \(seed) step \(step): \(name) backoff fell from \(previous) to \(delay) without a reset")
                }
                lastDelay[name] = delay
                resetAllowed.remove(name)
            }
            for name in names where resetAllowed.contains(name) && lastDelay[name] == nil { resetAllowed.remove(name) }
        }
    }
}
