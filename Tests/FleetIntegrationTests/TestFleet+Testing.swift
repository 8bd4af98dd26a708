import Foundation
import Testing
@testable import FleetCore
// TestFleet and UserManager live in FleetTestSupport, which mosaic-bench shares; exported here so
// every file of this target sees them as before.
@_exported import FleetTestSupport

/// The Swift Testing side of TestFleet: what records an issue when the fleet does not answer.
extension TestFleet {
    /// `fleet ps --json` parsed into objects.
    func ps(_ extra: [String] = []) async throws -> [[String: Any]] {
        let result = try await mosaic(["fleet", "ps", "--json"] + extra)
        guard let array = try JSONSerialization.jsonObject(with: result.standardOutput) as? [[String: Any]] else {
            Issue.record("fleet ps --json did not print an array: \(result.stdout) \(result.stderr)")
            return []
        }
        return array
    }

    func row(_ name: String, _ extra: [String] = []) async throws -> [String: Any]? {
        try await ps(extra).first { $0["name"] as? String == name && $0["kind"] as? String == "agent" }
    }

    /// `fleet events --json` (with `extra` filters) parsed, one object per journal row.
    func events(_ extra: [String] = []) async throws -> [[String: Any]] {
        let result = try await mosaic(["fleet", "events", "--json"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Polls `condition` until it holds or `timeout` passes; a real signal, never a bare sleep.
    func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        // Checked once more after the deadline: a busy machine may wake this loop late, not the condition.
        while true {
            if try await condition() { return }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out after \(timeout) waiting until \(what)")
        throw CancellationError()
    }
}
