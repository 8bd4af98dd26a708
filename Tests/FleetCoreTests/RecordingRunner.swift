import Foundation
@testable import FleetCore

/// A fake runner that records every invocation and answers from a script, so tests can
/// assert command construction and batching without running anything.
final class RecordingRunner: ProcessRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Invocation] = []
    private let respond: @Sendable (Invocation) -> ProcessResult

    init(_ respond: @escaping @Sendable (Invocation) -> ProcessResult = { _ in ProcessResult(status: 0) }) {
        self.respond = respond
    }

    var invocations: [Invocation] { lock.withLock { recorded } }

    func run(_ invocation: Invocation) async throws -> ProcessResult {
        lock.withLock { recorded.append(invocation) }
        return respond(invocation)
    }
}
