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
///
/// The hooks alone miss deaths: tmux 3.3a under load sometimes leaves a pane's process an unreaped
/// zombie (its SIGCHLD lost; 4 of 60 kills with the machine's two cores busy, measured), and a pane
/// that has no exit status yet never fires `pane-died`, until some later child of the server ends.
/// So the watcher also follows each live pane's process itself (`Host.exitWatch`, a pidfd each),
/// and reports a zombie tmux has not reaped with the status the kernel keeps for it (`exited`).
/// Deaths are told once, by pid, whichever source sees them first.
public struct PaneEventParser: Sendable {
    public static let channel = "mosaic-pane-events"
    /// The hooks' array index: set again on every attach, it never adds a second copy.
    public static let hookIndex = 47
    static let fields = ["#{session_name}", "#{pane_id}", "#{pane_dead}", "#{pane_pid}", "#{pane_dead_status}", "#{pane_dead_signal}"]

    enum Reply: Sendable { case hook, baseline, wait, list }

    var pending: [Reply] = []
    var attached = false
    var inBlock = false
    var blockIsOurs = false
    var lines: [Substring] = []
    /// Dead pane ids and live sessions of the last listing.
    var dead: Set<String> = []
    var sessions: Set<String> = []
    /// The live panes of the last listing, by their process's pid.
    public private(set) var live: [Int32: (session: String, paneId: String)] = [:]
    /// Pids whose death was told (by a listing or by `exited`), so neither source tells it twice.
    var reported: Set<Int32> = []

    public init() {}

    static var listCommand: String { ShellQuote.join(["list-panes", "-a", "-F", fields.joined(separator: "\t")]) }
    static var waitCommand: String { ShellQuote.join(["wait-for", channel]) }

    /// The first commands: hooks, a baseline listing, then the first wait and the listing behind it.
    /// Sent once the attach has answered: tmux reads a control client's stdin as soon as it
    /// connects, and commands that arrive before its `attach-session` has run are run first;
    /// the client then ends, never attached (seen in about one start in ten).
    mutating func startCommands() -> [String] {
        let hooks = ["pane-died", "pane-exited", "session-closed"].map { hook in
            ShellQuote.join(["set-hook", "-g", "\(hook)[\(Self.hookIndex)]", ShellQuote.join(["wait-for", "-S", Self.channel])])
        }
        pending = Array(repeating: .hook, count: hooks.count) + [.baseline, .wait, .list]
        return hooks + [Self.listCommand, Self.waitCommand, Self.listCommand]
    }

    /// One line from the client: the events it completes and the commands to send now.
    /// `%exit` ends the stream; the caller tells a dead server from a detach. A refused attach
    /// ends it too, with tmux's words as the reason.
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
            let failed = line.hasPrefix("%error ")
            if !blockIsOurs {
                guard !attached else { return ([], [], nil) }
                attached = true
                if failed { return ([], [], .some(lines.isEmpty ? "attach-session failed" : lines.joined(separator: "; "))) }
                return ([], startCommands(), nil)
            }
            guard !pending.isEmpty else { return ([], [], nil) }
            let reply = pending.removeFirst()
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
            lines.append(Substring(line))
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
        var nowDead: Set<String> = [], nowSessions: Set<String> = [], listed: Set<Int32> = []
        var nowLive: [Int32: (session: String, paneId: String)] = [:]
        for line in listing {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6 else { continue }
            nowSessions.insert(f[0])
            let pid = Int32(f[3])
            if let pid { listed.insert(pid) }
            guard f[2] == "1" else {
                if let pid { nowLive[pid] = (f[0], f[1]) }
                continue
            }
            nowDead.insert(f[1])
            let told = pid.map { reported.contains($0) } ?? dead.contains(f[1])
            if !told {
                events.append(.paneDied(PaneDeath(session: f[0], paneId: f[1], pid: pid, status: Int32(f[4]), signal: Int32(f[5]))))
            }
            if let pid { reported.insert(pid) }
        }
        for gone in sessions.subtracting(nowSessions).sorted() { events.append(.sessionClosed(gone)) }
        dead = nowDead
        sessions = nowSessions
        live = nowLive
        // A pid no longer listed belongs to a pane respawned or closed: it cannot be told again.
        reported.formIntersection(listed)
        return events
    }

    /// A live pane's process ended and tmux has not reaped it (it is a zombie, with `status` or
    /// `signal` read from the kernel): its death, unless told already or not a pane's process.
    public mutating func exited(pid: Int32, status: Int32?, signal: Int32?) -> PaneEvent? {
        guard let pane = live[pid], !reported.contains(pid) else { return nil }
        reported.insert(pid)
        return .paneDied(PaneDeath(session: pane.session, paneId: pane.paneId, pid: pid, status: status, signal: signal))
    }
}

extension Tmux {
    /// The watcher's control-mode client on the holder session: read-only, size ignored (it never
    /// drives a window's size), no pane output. It exits when its stdin closes. `-N`: attach-session
    /// starts a server when none runs (measured: a fresh server answers "no sessions" and exits);
    /// the daemon retries every second while the server is down, and each such server took the
    /// socket from the holder unit's `tmux -D` at boot, which then failed, and the agents bound to it.
    public func paneEventsInvocation(holderSession: String) -> Invocation {
        var inv = invocation(["attach-session", "-f", "read-only,ignore-size,no-output", "-t", "=\(holderSession)"])
        inv.arguments.insert(contentsOf: ["-N", "-C"], at: inv.arguments.count - 5)
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
        // Owned by the reader thread and the exit watch's thread, hence the lock.
        let parser = Mutex(PaneEventParser())
        let host = self.host
        let exits = host.exitWatch { pid in
            var table = ProcessTable(host: host)
            table.maxDepth = 0
            // Gone already: tmux reaped it, and then its hook tells the death with tmux's status.
            guard let sample = table.sample(pid), sample.isZombie else { return }
            if let death = parser.withLock({ $0.exited(pid: pid, status: sample.exitStatus, signal: sample.exitSignal) }) {
                continuation.yield(death)
            }
        }
        continuation.onTermination = { _ in
            cancelled.withLock { $0 = true }
            child.closeInput()
            exits?.stop()
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
            var exit: String?? = nil
            do {
                while let data = child.readLine() {
                    let line = String(decoding: data, as: UTF8.self)
                    // The live pids are taken only when a reply ended (a listing was absorbed), not
                    // for each of a listing's lines.
                    let (step, live) = parser.withLock { parser in
                        let step = parser.feed(line)
                        return (step, step.events.isEmpty && step.send.isEmpty ? nil : Set(parser.live.keys))
                    }
                    // Yielded before the watch is told the new pids: `.watching` comes first.
                    for event in step.events { continuation.yield(event) }
                    if let live { exits?.watch(live) }
                    if let reason = step.exit { exit = reason; break }
                    for command in step.send { try child.send(command) }
                }
            } catch {
                exit = .some("cannot write to the tmux client: \(error)")
            }
            exits?.stop()
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
