import Synchronization

/// The last roster parsed, with the text it came from (see `FleetContext.loadRoster(cache:)`).
/// A bad roster is not kept: it is parsed, and reported, each time until it is fixed.
public final class RosterCache: Sendable {
    private let last = Mutex<(text: String, roster: Roster)?>(nil)

    public init() {}

    func roster(for text: String) -> Roster? {
        last.withLock { $0?.text == text ? $0?.roster : nil }
    }

    func keep(_ roster: Roster, for text: String) {
        last.withLock { $0 = (text, roster) }
    }
}
