import Foundation
import Synchronization

/// Streams one agent pane's output through a read-only tmux control-mode client attached to the
/// agent's session: tmux pushes every byte the pane prints as `%output`, so nothing is polled and
/// nothing is missed. Used by `watch` without a terminal and by `tail --follow`.
public final class PaneStream: Sendable {
    public let tmux: Tmux
    public let agent: String
    public let host: any Host
    /// The control client while `run` runs; `stop` comes from another thread (a signal's).
    private let child = Mutex<StreamingChild?>(nil)

    public init(tmux: Tmux, agent: String, host: any Host = LocalHost()) {
        self.tmux = tmux
        self.agent = agent
        self.host = host
    }

    /// How a stream ended.
    public enum End: Sendable, Equatable {
        /// The session went away (agent stopped) or the stream was stopped.
        case exited(reason: String?)
        /// The control client ended without saying why (server gone).
        case lost
    }

    /// Attaches and calls `output` with the pane's output bytes until the stream ends. With
    /// `initialCapture` (a capture-pane command), its text goes to `initial` first, read through
    /// the same client, so no output falls between it and the stream.
    public func run(paneId: String, initialCapture: [String]?, initial: (String) -> Void = { _ in },
                    output write: (Data) -> Void) throws -> End {
        let initialScreen = initialCapture != nil
        let child = try host.startStreaming(tmux.controlInvocation(agent: agent))
        self.child.withLock { $0 = child }
        defer { child.closeInput(); _ = child.wait() }
        // Blocks answering our own stdin commands carry flags 1; the attach command answers
        // with flags 0.
        if let initialCapture { try child.send(ShellQuote.join(initialCapture)) }
        var started = !initialScreen, inOurBlock = false, inBlock = false, captured = Data()
        while let line = child.readLine() {
            if line.starts(with: Array("%begin ".utf8)) {
                inBlock = true
                inOurBlock = line.split(separator: 0x20).last.map { Array($0) == [0x31] } ?? false
                continue
            }
            if line.starts(with: Array("%end ".utf8)) || line.starts(with: Array("%error ".utf8)) {
                if inOurBlock && !started {
                    initial(String(decoding: captured, as: UTF8.self))
                    started = true
                }
                inBlock = false
                inOurBlock = false
                continue
            }
            if inBlock {
                if inOurBlock { captured.append(line); captured.append(0x0A) }
                continue
            }
            if line.starts(with: Array("%exit".utf8)) {
                let reason = String(decoding: line.dropFirst(5), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                return .exited(reason: reason.isEmpty ? nil : reason)
            }
            // Output that came before the initial screen is already part of it.
            guard started, let (pane, data) = ControlLine.output(line), pane == paneId else { continue }
            write(data)
        }
        return .lost
    }

    /// Ends the stream: the control client sees EOF and exits; the agent's session is untouched.
    public func stop() { child.withLock { $0 }?.closeInput() }
}

/// Parsing of control-mode lines.
public enum ControlLine {
    /// `%output %<pane> <data>`, the data's octal escapes (`\015`; a backslash is `\134`) decoded.
    public static func output(_ line: Data) -> (pane: String, data: Data)? {
        let prefix = Array("%output ".utf8)
        guard line.starts(with: prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        guard let space = rest.firstIndex(of: 0x20) else { return nil }
        let pane = String(decoding: rest[rest.startIndex..<space], as: UTF8.self)
        return (pane, unescape(rest[rest.index(after: space)...]))
    }

    static func unescape(_ bytes: Data) -> Data {
        var out = Data(capacity: bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == 0x5C, bytes.distance(from: i, to: bytes.endIndex) >= 4 {
                let digits = bytes[(i + 1)...(i + 3)]
                if digits.allSatisfy({ (0x30...0x37).contains($0) }) {
                    out.append(digits.reduce(UInt8(0)) { $0 &* 8 &+ ($1 - 0x30) })
                    i += 4
                    continue
                }
            }
            out.append(b)
            i += 1
        }
        return out
    }
}
