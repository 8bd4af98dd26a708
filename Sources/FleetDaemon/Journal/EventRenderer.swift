import FleetCore
import Foundation

/// The readable timeline of `fleet events`: one line per event, oldest first.
public enum EventRenderer {
    public static func line(_ event: JournalEvent, color: Bool) -> String {
        let agent = event.agent ?? "-"
        let kind = event.kind.rawValue.padding(toLength: max(17, event.kind.rawValue.count), withPad: " ", startingAt: 0)
        let name = agent.padding(toLength: max(12, agent.count), withPad: " ", startingAt: 0)
        var text = "\(Timestamp.format(event.ts))  \(name) \(paint(kind, event.kind, color))  \(summary(event))"
        if let actor = event.actor { text += "  (by \(actor))" }
        return text
    }

    /// The detail in words: `exited with status 1`, `busy → waiting:approval`.
    public static func summary(_ event: JournalEvent) -> String {
        let d = event.detail
        var parts: [String] = []
        if let from = d.from, let to = d.to { parts.append("\(from) → \(to)") } else if let from = d.from { parts.append("was \(from)") }
        if let signal = d.signal { parts.append("killed by \(signal)") }
        if let status = d.status { parts.append("status \(status)") }
        if let pid = d.pid { parts.append("pid \(pid)") }
        if let count = d.count, d.message == nil { parts.append("\(count)") }
        if let via = d.via { parts.append("via \(via)") }
        if let id = d.messageId { parts.append("msg \(id)") }
        if let verdict = d.verdict { parts.append(verdict) }
        if let bytes = d.bytes { parts.append("\(bytes) bytes") }
        if let message = d.message { parts.append(message) }
        if let path = d.path { parts.append(path) }
        if let last = d.lastOutput { parts.append("last output: \(last)") }
        return parts.joined(separator: ", ")
    }

    static func paint(_ text: String, _ kind: EventKind, _ color: Bool) -> String {
        guard color else { return text }
        switch kind {
        case .agentExited, .agentVanished, .journalCorrupt: return "\u{1B}[31m\(text)\u{1B}[0m"
        case .agentStarted, .startedByUser, .daemonAdopted: return "\u{1B}[32m\(text)\u{1B}[0m"
        default: return text
        }
    }
}
