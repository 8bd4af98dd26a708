import Foundation

/// Types a message into one agent's pane safely and, when asked, finds out whether it landed.
///
/// Order of work, under the agent's send lock: wait for the prompt (copy mode cancelled, no
/// full-screen program in front, no operator draft), type (keys or a bracketed paste), check
/// that the input line shows exactly what was typed, press Enter, then watch the heartbeat for
/// the message id (and, for runtimes that cannot acknowledge, the screen).
public struct Sender: Sendable {
    public let tmux: Tmux
    public let store: HeartbeatStore
    public let agent: String
    public let adapter: RuntimeAdapter
    public var options: SendOptions

    public init(tmux: Tmux, store: HeartbeatStore, agent: String, adapter: RuntimeAdapter, options: SendOptions) {
        self.tmux = tmux
        self.store = store
        self.agent = agent
        self.adapter = adapter
        self.options = options
    }

    /// Where the pane stands before anything is typed.
    enum Readiness {
        case ready(PaneSnapshot, InputShape?)
        case draft(PaneSnapshot, InputShape, String)
        case notReady(String)
        case unknownShape(PaneSnapshot)
    }

    public func send(_ message: Message) async throws -> SendOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let lock = try FileLock(path: store.sendLockPath(agent), timeout: options.lockTimeout)
        defer { lock.release() }
        if message.framed, store.read(agent)?.ack == message.id { throw MessageError.idReused(agent: agent, id: message.id) }
        let wire = message.wireText
        func outcome(_ verdict: Verdict?, typed: Bool = false, submitted: Bool = false, shape: InputShape? = nil,
                     cleared: String? = nil, _ reason: String) -> SendOutcome {
            let ms = Int((clock.now - start).milliseconds.rounded())
            return SendOutcome(agent: agent, id: message.id, verdict: verdict, typed: typed, submitted: submitted,
                               delivery: typed ? message.delivery : nil, bytes: wire.utf8.count, inputShape: shape?.name,
                               clearedDraft: cleared, reason: reason, elapsedMs: ms)
        }

        // 1. The prompt, empty.
        var cleared: String?
        var clearDeadline: ContinuousClock.Instant?
        var copyModeCancels = 0
        var confirmedDraft = false
        var lastWhy = ""
        var busyIsStale = false
        let readyDeadline = clock.now + options.readyTimeout
        var snapshot: PaneSnapshot
        var shape: InputShape?
        readiness: while true {
            let snap = try await tmux.snapshot(agent: agent)
            if snap.dead { throw SendError.paneDead(agent: agent) }
            if snap.inMode {
                copyModeCancels += 1
                guard copyModeCancels <= 3 else { throw SendError.copyModeStuck(agent: agent) }
                try await tmux.cancelCopyMode(paneId: snap.paneId)
                continue
            }
            switch assess(snap, busyIsStale: busyIsStale) {
            case .ready(let s, let found):
                snapshot = s
                shape = found
                break readiness
            case .unknownShape(let s):
                guard options.force else {
                    return outcome(.unverifiable, "mosaic does not know the input line of runtime \(adapter.kind.rawValue) "
                        + "(running \(s.currentCommand)), so it cannot rule out an operator's draft; nothing typed (--force sends anyway)")
                }
                snapshot = s
                shape = nil
                break readiness
            case .draft(let s, let found, let text):
                if Self.restoredPrompt(text, ack: store.read(agent)?.ack) { busyIsStale = true }
                // A refusal rests on a settled screen: a program mid-redraw can look like a draft.
                if !confirmedDraft {
                    confirmedDraft = true
                    try await Task.sleep(for: options.screenPoll)
                    continue
                }
                guard options.force else {
                    return outcome(.draft, shape: found, "the input line already holds text mosaic did not type (\(Self.excerpt(text))); "
                        + "nothing typed (--force clears it first)")
                }
                guard cleared == nil else {
                    // The program may still be working through the keys (a busy machine, many keys;
                    // Claude Code reads a lone Escape only after a pause).
                    if let clearDeadline, clock.now < clearDeadline {
                        try await Task.sleep(for: options.screenPoll)
                        continue
                    }
                    return outcome(.draft, shape: found, cleared: cleared, "the input line still holds text after clearing it; nothing typed")
                }
                cleared = text
                try await tmux.pressKeys(paneId: s.paneId, found.clearKeys)
                clearDeadline = clock.now + options.echoTimeout
                try await Task.sleep(for: options.screenPoll)
            case .notReady(let why):
                lastWhy = why
                confirmedDraft = false
                guard clock.now < readyDeadline else {
                    return outcome(.busy, cleared: cleared, "not at its prompt within \(options.readyTimeout): \(lastWhy); nothing typed")
                }
                try await Task.sleep(for: options.screenPoll)
            }
        }
        if let shape { try message.check(against: shape, agent: agent) }

        // 2. Type, and see it arrive exactly.
        switch message.delivery {
        case .keys: try await tmux.typeLiteral(paneId: snapshot.paneId, text: wire)
        case .paste: try await tmux.paste(paneId: snapshot.paneId, text: wire, buffer: "mosaic-\(message.id)")
        }
        var typed = snapshot
        if let shape {
            let reader = InputLineReader(shapes: [shape])
            let echoDeadline = clock.now + options.echoTimeout
            while true {
                typed = try await tmux.snapshot(agent: agent)
                let screen = typed.screen
                let state = reader.classify(screen, cursorX: typed.cursorX, cursorY: typed.cursorY, width: typed.width).state
                if TypedEcho.matches(state, message: wire) || Self.placeholder(state, shape: shape, wire: wire) { break }
                if state == .noPrompt, TypedEcho.endsAtCursor(screen, cursorX: typed.cursorX, cursorY: typed.cursorY, message: wire) { break }
                guard clock.now < echoDeadline else {
                    return outcome(options.verify ? .draft : nil, typed: true, shape: shape, cleared: cleared,
                                   "typed, but the input line does not show exactly the message (someone typed too?); "
                                   + "Enter not pressed, the text sits in the input line")
                }
                try await Task.sleep(for: .milliseconds(3))
            }
        }
        guard options.submit else {
            return outcome(options.verify ? .draft : nil, typed: true, shape: shape, cleared: cleared,
                           "typed and left in the input line (--no-submit)")
        }

        // 3. Submit.
        if let pause = shape?.submitPause, pause > .zero { try await Task.sleep(for: pause) }
        try await tmux.pressKeys(paneId: snapshot.paneId, ["Enter"])
        guard options.verify else {
            return outcome(nil, typed: true, submitted: true, shape: shape, cleared: cleared, "submitted; not verified (use --verify)")
        }

        // 4. Verify.
        let (verdict, reason) = try await verify(message, afterEnter: typed, shape: shape)
        return outcome(verdict, typed: true, submitted: true, shape: shape, cleared: cleared, reason)
    }

    /// `busyIsStale`: this send has seen the runtime's last acknowledged message put back into
    /// its input line, so a busy heartbeat is a report nothing ended (see `restoredPrompt`).
    func assess(_ snap: PaneSnapshot, busyIsStale: Bool = false) -> Readiness {
        if snap.alternateOn && !adapter.usesAlternateScreen {
            return .notReady("a full-screen program (\(snap.currentCommand)) is in front")
        }
        // An approval prompt takes keys as answers (codex: `y` approves): never type into one,
        // not even with --force. The runtime's own report says when one is open.
        if let beat = store.read(agent), beat.waitingFor == .approval {
            return .notReady("it waits for an approval (its heartbeat says so); answer it with `mosaic agent attach \(agent)`")
        }
        let shapes = InputLineReader.shapes(for: adapter, command: snap.currentCommand)
        if shapes.isEmpty { return .unknownShape(snap) }
        let (state, shape) = InputLineReader(shapes: shapes).classify(snap.screen, cursorX: snap.cursorX, cursorY: snap.cursorY, width: snap.width)
        if adapter.acknowledgesMessages, !busyIsStale, let beat = store.read(agent), beat.reportedState == .busy {
            guard case .draft(_, let text) = state, Self.restoredPrompt(text, ack: beat.ack) else {
                return .notReady("its heartbeat says busy")
            }
        }
        switch state {
        case .empty: return .ready(snap, shape)
        case .draft(_, let text): return .draft(snap, shape!, text)
        case .noPrompt: return .notReady("no prompt at the cursor (it is working, or shows something else)")
        }
    }

    /// Polls the heartbeat for the id (and the screen, for runtimes that cannot acknowledge)
    /// until the verdict is clear or the timeout passes.
    func verify(_ message: Message, afterEnter before: PaneSnapshot, shape: InputShape?) async throws -> (Verdict, String) {
        let clock = ContinuousClock()
        let deadline = clock.now + options.verifyTimeout
        let wire = message.wireText
        var nextScreen = clock.now + options.screenPoll
        let screenEvidence = (!adapter.acknowledgesMessages || !message.framed) && shape != nil
        // The acknowledgement arrives as a write of the agent's heartbeat file: wait on that.
        let watch = message.framed
            ? try? store.host.watch(directory: store.directory, names: [(store.heartbeatPath(agent) as NSString).lastPathComponent])
            : nil
        while true {
            let seen = watch?.generation ?? 0
            if message.framed, store.read(agent)?.ack == message.id {
                return (.accepted, "the runtime acknowledged message \(message.id) in its heartbeat")
            }
            let now = clock.now
            if now >= deadline { break }
            if screenEvidence, now >= nextScreen, let shape {
                let snap = try await tmux.snapshot(agent: agent)
                let sitting = Self.sitting(snap, shape: shape, wire: wire)
                if !sitting.stillThere && !sitting.otherDraft && Self.changed(before, snap) {
                    return (.accepted, "the pane changed after Enter and no draft remains")
                }
                nextScreen = clock.now + options.screenPoll
            }
            if let watch {
                let until = screenEvidence ? min(deadline, nextScreen) : deadline
                _ = await watch.wait(after: seen, timeout: max(until - clock.now, .milliseconds(1)))
            } else {
                try await Task.sleep(for: screenEvidence ? options.screenPoll : options.heartbeatPoll)
            }
        }
        let snap = try await tmux.snapshot(agent: agent)
        let sitting = shape.map { Self.sitting(snap, shape: $0, wire: wire) } ?? (stillThere: false, otherDraft: false)
        let waited = "within \(options.verifyTimeout)"
        if sitting.stillThere { return (.draft, "the message still sits unsubmitted in the input line \(waited)") }
        if sitting.otherDraft { return (.draft, "the input line holds text other than the message \(waited)") }
        if adapter.acknowledgesMessages && message.framed {
            return (.unverifiable, "no acknowledgement of \(message.id) in the heartbeat \(waited), and no draft on screen")
        }
        return (.unverifiable, Self.changed(before, snap) ? "the pane changed but shows no prompt to confirm it \(waited)"
                                                          : "the pane did not change after Enter \(waited)")
    }

    /// Claude Code puts a prompt back into its composer when Esc cancels it before the answer
    /// begins, and reports nothing (measured, 2.1.332: no hook, no transcript line): an input line
    /// holding the frame of the message the runtime acknowledged last means that turn is over,
    /// whatever the heartbeat says.
    static func restoredPrompt(_ draft: String, ack: String?) -> Bool {
        guard let ack else { return false }
        return draft.contains(MessageFrame.start(of: ack))
    }

    /// Whether the typed message (or other text) still sits in the input line.
    static func sitting(_ snap: PaneSnapshot, shape: InputShape, wire: String) -> (stillThere: Bool, otherDraft: Bool) {
        let screen = snap.screen
        let state = InputLineReader(shapes: [shape]).classify(screen, cursorX: snap.cursorX, cursorY: snap.cursorY, width: snap.width).state
        if TypedEcho.matches(state, message: wire) || placeholder(state, shape: shape, wire: wire) { return (true, false) }
        if state == .noPrompt, TypedEcho.endsAtCursor(screen, cursorX: snap.cursorX, cursorY: snap.cursorY, message: wire) {
            return (true, false)
        }
        return (false, state.isDraft)
    }

    /// The input line holds only the program's placeholder for a paste of the message's length.
    static func placeholder(_ state: InputLineState, shape: InputShape, wire: String) -> Bool {
        guard case .draft(_, let text) = state else { return false }
        return shape.showsPastePlaceholder(text, for: wire)
    }

    static func changed(_ a: PaneSnapshot, _ b: PaneSnapshot) -> Bool {
        a.capture != b.capture || a.cursorX != b.cursorX || a.cursorY != b.cursorY
    }

    static func excerpt(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "⏎")
        return "\"" + (flat.count > 40 ? String(flat.prefix(40)) + "…" : flat) + "\""
    }
}
