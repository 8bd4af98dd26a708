import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One pane that died, as tmux reported it. Status and signal may still be unknown: tmux 3.3a
/// marks a pane dead when its terminal closes and fills them in only when it reaps the process.
public struct PaneDeath: Sendable, Equatable {
    public var session: String
    public var paneId: String
    public var pid: Int32?
    public var status: Int32?
    public var signal: Int32?

    public init(session: String, paneId: String, pid: Int32? = nil, status: Int32? = nil, signal: Int32? = nil) {
        self.session = session
        self.paneId = paneId
        self.pid = pid
        self.status = status
        self.signal = signal
    }
}

/// What the fleet's tmux server pushes to the supervisor.
public enum PaneEvent: Sendable, Equatable {
    /// Attached with the hooks in place: every death from now on is reported.
    case watching
    case paneDied(PaneDeath)
    /// The session is gone (killed, or its last pane closed).
    case sessionClosed(String)
    /// The tmux server is gone; the stream ends.
    case serverGone
    /// The watching client ended while the server runs (its holder session was killed); the stream ends.
    case detached(reason: String?)
}

/// Turns a control-mode client's lines into pane events and the commands to send next.
///
/// The fleet's panes die in sessions the client is not attached to, and with `remain-on-exit on`
/// their windows stay: tmux 3.3a sends a control client nothing for that (measured). Global
/// `pane-died`/`pane-exited`/`session-closed` hooks therefore signal a `wait-for` channel. The
/// client waits on it, and the `list-panes -a` queued behind the wait answers the moment it is
/// signalled (5-15 ms after a kill, measured): one batched listing per burst of deaths, no process
/// spawned, and only this client hears it (a hook's `display-message -p` went to whichever client
/// tmux picked, not the one named with `-c`).
public struct PaneEventParser: Sendable {
    public static let channel = "mosaic-pane-events"
    /// The hooks' array index: set again on every attach, it never adds a second copy.
    public static let hookIndex = 47
    static let fields = ["#{session_name}", "#{pane_id}", "#{pane_dead}", "#{pane_pid}", "#{pane_dead_status}", "#{pane_dead_signal}"]

    enum Reply: Sendable { case hook, baseline, wait, list }

    var pending: [Reply] = []
    var inBlock = false
    var blockIsOurs = false
    var lines: [Substring] = []
    /// Dead pane ids and live sessions of the last listing.
    var dead: Set<String> = []
    var sessions: Set<String> = []

    public init() {}

    static var listCommand: String { ShellQuote.join(["list-panes", "-a", "-F", fields.joined(separator: "\t")]) }
    static var waitCommand: String { ShellQuote.join(["wait-for", channel]) }

    /// The first commands: hooks, a baseline listing, then the first wait and the listing behind it.
    public mutating func start() -> [String] {
        let hooks = ["pane-died", "pane-exited", "session-closed"].map { hook in
            ShellQuote.join(["set-hook", "-g", "\(hook)[\(Self.hookIndex)]", ShellQuote.join(["wait-for", "-S", Self.channel])])
        }
        pending = Array(repeating: .hook, count: hooks.count) + [.baseline, .wait, .list]
        return hooks + [Self.listCommand, Self.waitCommand, Self.listCommand]
    }

    /// One line from the client: the events it completes and the commands to send now.
    /// `%exit` ends the stream; the caller tells a dead server from a detach.
    public mutating func feed(_ line: String) -> (events: [PaneEvent], send: [String], exit: String??) {
        if line.hasPrefix("%begin ") {
            inBlock = true
            // Replies to this client's own commands carry flags 1; the attach's own reply 0.
            blockIsOurs = line.split(separator: " ").last == "1"
            lines = []
            return ([], [], nil)
        }
        if inBlock && (line.hasPrefix("%end ") || line.hasPrefix("%error ")) {
            inBlock = false
            guard blockIsOurs, !pending.isEmpty else { return ([], [], nil) }
            let reply = pending.removeFirst()
            let failed = line.hasPrefix("%error ")
            switch reply {
            case .hook, .wait:
                return ([], [], nil)
            case .baseline:
                if !failed { absorb(lines) }
                return ([.watching], [], nil)
            case .list:
                let events = failed ? [] : absorb(lines)
                pending += [.wait, .list]
                return (events, [Self.waitCommand, Self.listCommand], nil)
            }
        }
        if inBlock {
            if blockIsOurs { lines.append(Substring(line)) }
            return ([], [], nil)
        }
        if line.hasPrefix("%exit") {
            let reason = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            return ([], [], .some(reason.isEmpty ? nil : reason))
        }
        return ([], [], nil)
    }

    /// Takes in one listing; returns the deaths and closed sessions since the one before.
    @discardableResult
    mutating func absorb(_ listing: [Substring]) -> [PaneEvent] {
        var events: [PaneEvent] = []
        var nowDead: Set<String> = [], nowSessions: Set<String> = []
        for line in listing {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6 else { continue }
            nowSessions.insert(f[0])
            guard f[2] == "1" else { continue }
            nowDead.insert(f[1])
            if !dead.contains(f[1]) {
                events.append(.paneDied(PaneDeath(session: f[0], paneId: f[1], pid: Int32(f[3]), status: Int32(f[4]), signal: Int32(f[5]))))
            }
        }
        for gone in sessions.subtracting(nowSessions).sorted() { events.append(.sessionClosed(gone)) }
        dead = nowDead
        sessions = nowSessions
        return events
    }
}

extension Tmux {
    /// The watcher's control-mode client on the holder session: read-only, size ignored (it never
    /// drives a window's size), no pane output. It exits when its stdin closes.
    public func paneEventsInvocation(holderSession: String) -> Invocation {
        var inv = invocation(["attach-session", "-f", "read-only,ignore-size,no-output", "-t", "=\(holderSession)"])
        inv.arguments.insert("-C", at: inv.arguments.count - 5)
        inv.timeout = .seconds(366 * 86400)
        return inv
    }
}

/// Learns of pane deaths and of the server's death from tmux by push: one control-mode client for
/// the whole fleet, never a poll per agent.
public struct PaneDeathWatcher: Sendable {
    public let tmux: Tmux
    public let holderSession: String
    public let host: any Host

    public init(tmux: Tmux, holderSession: String, host: any Host = LocalHost()) {
        self.tmux = tmux
        self.holderSession = holderSession
        self.host = host
    }

    /// The events until the server goes or the client is detached; cancelling the consumer
    /// closes the client (the agents are untouched). Throws if the client cannot be started.
    public func events() throws -> AsyncStream<PaneEvent> {
        let child = try host.startStreaming(tmux.paneEventsInvocation(holderSession: holderSession))
        let (stream, continuation) = AsyncStream.makeStream(of: PaneEvent.self)
        let cancelled = Mutex(false)
        continuation.onTermination = { _ in
            cancelled.withLock { $0 = true }
            child.closeInput()
        }
        let tmux = self.tmux
        // A blocking read belongs on a thread of its own, never on the cooperative pool. The
        // thread also writes: with SIGPIPE blocked on it, a client that has just exited is an
        // EPIPE here, not the end of the whole process.
        let reader = Thread {
            var mask = sigset_t()
            sigemptyset(&mask)
            sigaddset(&mask, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &mask, nil)
            var parser = PaneEventParser()
            var exit: String?? = nil
            do {
                for command in parser.start() { try child.send(command) }
                while let data = child.readLine() {
                    let step = parser.feed(String(decoding: data, as: UTF8.self))
                    for event in step.events { continuation.yield(event) }
                    if let reason = step.exit { exit = reason; break }
                    for command in step.send { try child.send(command) }
                }
            } catch {
                exit = .some("cannot write to the tmux client: \(error)")
            }
            child.closeInput()
            _ = child.wait()
            guard !cancelled.withLock({ $0 }) else { continuation.finish(); return }
            Task {
                continuation.yield(await Self.ending(exit: exit, tmux: tmux))
                continuation.finish()
            }
        }
        reader.start()
        return stream
    }

    /// Tells a dead server from a detached client: `%exit` says so only for a server that crashed.
    static func ending(exit: String??, tmux: Tmux) async -> PaneEvent {
        let reason = exit ?? nil
        if reason == "server exited unexpectedly" { return .serverGone }
        do {
            try await tmux.run(["list-sessions"])
            return .detached(reason: reason)
        } catch TmuxError.noServer {
            return .serverGone
        } catch {
            return .detached(reason: reason ?? "\(error)")
        }
    }
}
