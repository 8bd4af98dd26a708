import ArgumentParser
import FleetCore
import FleetDaemon
import Foundation
import Synchronization

struct FleetTop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "The live fleet table in the terminal: move with the arrows, w watch, t tail, s send, r restart, q quit.",
        discussion: """
        Redrawn every --interval and at once on every event of the fleet daemon (when one runs); \
        without a daemon the planes are read afresh each time, as `fleet ps` does. Agents that wait \
        for input or approval come first. `w` hands the terminal to `agent watch` (read-only; q \
        returns), `t` shows the agent's screen and history, `s` types a one-line message and shows \
        the verdict of `agent send --verify`, `r` restarts after a y. Colours follow NO_COLOR. \
        The terminal is restored on q, Ctrl-C and SIGTERM. Needs a terminal: scripts use `fleet ps --json`.
        """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Seconds between redraws (0.2 to 60).", valueName: "seconds")) var interval: Double = 1

    func validate() throws {
        guard interval >= 0.2, interval <= 60 else { throw ValidationError("--interval must be between 0.2 and 60 seconds") }
    }

    func run() async throws {
        try await guarded {
            guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
                throw ValidationError("fleet top needs a terminal; in scripts use `mosaic fleet ps` or `fleet ps --json`")
            }
            let context = global.context
            _ = try context.loadRoster()   // a bad roster is said before the screen is taken
            let status = await TopSession(context: context, interval: .milliseconds(Int(interval * 1000))).run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// One `fleet top` on the terminal: input, redraws and the verbs it runs.
struct TopSession {
    let context: FleetContext
    let interval: Duration

    enum Input: Sendable {
        case key(TopModel.Key)
        case tick
        case signal(Int32)
    }

    func run() async -> Int32 {
        let terminal = RawTerminal()
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        TopSignals.install()
        terminal.enter()
        var reader = KeyReader(continuation: continuation)
        reader.start()
        let ticker = Task {
            while !Task.isCancelled {
                continuation.yield(.tick)
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
        let events = Task { await followDaemon(continuation) }
        defer {
            ticker.cancel()
            events.cancel()
            reader.stop()
            terminal.leave()
            TopSignals.uninstall()
        }

        var model = TopModel()
        let color = ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        for await input in inputs {
            switch input {
            case .signal(let number):
                if number == SIGWINCH { break }
                return 128 + number
            case .tick:
                await refresh(&model)
            case .key(let key):
                guard let action = model.handle(key) else { break }
                switch action {
                case .quit:
                    return 0
                case .watch(let agent):
                    reader.stop()
                    terminal.leave()
                    let code = watch(agent)
                    terminal.enter()
                    reader = KeyReader(continuation: continuation)
                    reader.start()
                    model.status = code == 0 ? "left the watch of \(agent)" : "watch \(agent) ended with status \(code)"
                case .tail(let agent):
                    let result = await mosaic(["agent", "tail", agent])
                    if result.status == 0 {
                        model.mode = .tail(agent: agent, lines: result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
                    } else {
                        model.status = "tail \(agent): \(Self.lastLine(result.stderr))"
                    }
                case .send(let agent, let text):
                    draw(model, color: color)
                    let result = await mosaic(["agent", "send", agent, "--verify", "--json", "-m", text])
                    model.status = Self.verdict(of: result, agent: agent)
                    await refresh(&model)
                case .restart(let agent):
                    draw(model, color: color)
                    let result = await mosaic(["fleet", "restart", agent])
                    model.status = result.status == 0 ? "restarted \(agent)" : "restart \(agent): \(Self.lastLine(result.stderr))"
                    await refresh(&model)
                }
            }
            draw(model, color: color)
        }
        return 0
    }

    func refresh(_ model: inout TopModel) async {
        do {
            let roster = try context.loadRoster()
            let readings = try await PlaneReader(context: context).read(roster: roster)
            model.update(FleetSnapshot.join(roster: roster, readings: readings, now: Date()))
        } catch {
            model.readError = "\(error)"
        }
    }

    func draw(_ model: TopModel, color: Bool) {
        let (width, height) = RawTerminal.size()
        let lines = TopRenderer.render(model, width: width, height: height, color: color)
        // Home, each line cleared to its end, the rest of the screen cleared: no flicker.
        let frame = "\u{1B}[H" + lines.joined(separator: "\u{1B}[K\r\n") + "\u{1B}[K\u{1B}[J"
        FileHandle.standardOutput.write(Data(frame.utf8))
    }

    /// Every event the daemon journals redraws at once (a death, a restart, a send).
    func followDaemon(_ continuation: AsyncStream<Input>.Continuation) async {
        while !Task.isCancelled {
            if DaemonProbe.runningPid(context.paths) != nil {
                let client = DaemonClient(socketPath: context.paths.daemonSocket)
                try? await client.followEvents("/api/v1/events/stream") { _ in continuation.yield(.tick) }
            }
            do { try await Task.sleep(for: .seconds(2)) } catch { return }
        }
    }

    /// `agent watch` on this terminal, in the foreground; returns its exit status.
    func watch(_ agent: String) -> Int32 {
        (try? context.host.runOnTerminal(Invocation(context.mosaicExecutable, ["agent", "watch", agent, "--home", context.paths.home],
                                                     timeout: .seconds(366 * 86400)))) ?? 1
    }

    /// Runs one verb of this mosaic on this home, its output captured.
    func mosaic(_ arguments: [String]) async -> ProcessResult {
        do {
            return try await context.host.run(Invocation(context.mosaicExecutable, arguments + ["--home", context.paths.home],
                                                         timeout: .seconds(120)))
        } catch {
            return ProcessResult(status: 1, standardOutput: Data(), standardError: Data("\(error)".utf8))
        }
    }

    static func verdict(of result: ProcessResult, agent: String) -> String {
        if let object = try? JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any] {
            let verdict = object["verdict"] as? String ?? (object["submitted"] as? Bool == true ? "submitted" : "not sent")
            return "send to \(agent): \(verdict)" + ((object["id"] as? String).map { " (message \($0))" } ?? "")
        }
        return "send to \(agent): \(lastLine(result.stderr))"
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map { String($0).replacingOccurrences(of: "mosaic: ", with: "") } ?? "failed"
    }
}

/// The terminal in raw mode on the alternate screen, and back exactly as it was. Used by the
/// command's own task only (not Sendable).
final class RawTerminal {
    private var saved = termios()
    private var active = false

    func enter() {
        guard !active, tcgetattr(STDIN_FILENO, &saved) == 0 else { return }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
        active = true
        // Alternate screen, cursor hidden.
        FileHandle.standardOutput.write(Data("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J".utf8))
    }

    func leave() {
        guard active else { return }
        FileHandle.standardOutput.write(Data("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l".utf8))
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
        active = false
    }

    static func size() -> (width: Int, height: Int) {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        return (80, 24)
    }
}

/// SIGTERM, SIGHUP, SIGINT and SIGWINCH turned into bytes on a pipe that the key reader polls.
enum TopSignals {
    nonisolated(unsafe) static var pipe: [Int32] = [-1, -1]
    static let handled = [SIGTERM, SIGHUP, SIGINT, SIGWINCH]

    static func install() {
        guard pipe[0] < 0, FileIO.pipe(&pipe) else { return }
        for fd in pipe { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        for number in handled {
            signal(number) { caught in
                var byte = UInt8(truncatingIfNeeded: caught)
                _ = write(TopSignals.pipe[1], &byte, 1)
            }
        }
    }

    static func uninstall() {
        for number in handled { signal(number, SIG_DFL) }
    }
}

/// Reads keys on a thread of its own (a blocking poll), until stopped; stopping waits for the
/// thread, so a program given the terminal next (`agent watch`) gets every key.
struct KeyReader {
    let continuation: AsyncStream<TopSession.Input>.Continuation
    private var control: [Int32] = [-1, -1]
    private var done: DispatchSemaphore?

    init(continuation: AsyncStream<TopSession.Input>.Continuation) { self.continuation = continuation }

    mutating func start() {
        // Close-on-exec: the verbs top runs meanwhile (send, restart, tail) must not inherit it.
        guard FileIO.pipe(&control) else { return }
        let done = DispatchSemaphore(value: 0)
        self.done = done
        let stopRead = control[0], continuation = self.continuation
        Thread.detachNewThread {
            defer { close(stopRead); done.signal() }
            var pending: [UInt8] = []
            while true {
                var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: TopSignals.pipe[0], events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0)]
                // A lone ESC is the Escape key once nothing follows it within 50 ms.
                let ready = poll(&fds, 3, pending.isEmpty ? -1 : 50)
                if ready < 0 { if errno == EINTR { continue } else { return } }
                if fds[2].revents != 0 { return }
                if fds[1].revents != 0 {
                    var buffer = [UInt8](repeating: 0, count: 16)
                    let n = read(TopSignals.pipe[0], &buffer, buffer.count)
                    for byte in buffer.prefix(max(0, n)) { continuation.yield(.signal(Int32(byte))) }
                }
                if ready == 0 {
                    for key in TopKeyDecoder.decode(&pending, final: true) { continuation.yield(.key(key)) }
                    continue
                }
                if fds[0].revents != 0 {
                    var buffer = [UInt8](repeating: 0, count: 256)
                    let n = read(STDIN_FILENO, &buffer, buffer.count)
                    if n <= 0 { continuation.yield(.signal(SIGHUP)); return }
                    pending += buffer.prefix(n)
                    for key in TopKeyDecoder.decode(&pending, final: false) { continuation.yield(.key(key)) }
                }
            }
        }
    }

    mutating func stop() {
        guard let done else { return }
        var byte: UInt8 = 1
        _ = write(control[1], &byte, 1)
        done.wait()
        close(control[1])
        self.done = nil
    }
}
