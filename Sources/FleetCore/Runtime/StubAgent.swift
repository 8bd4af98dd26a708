import Foundation

/// The built-in runtime for demos and tests: a line-oriented chat agent that speaks the
/// heartbeat protocol, acknowledges message ids and takes a reset command.
/// Not Sendable: it runs on the one thread that reads its input.
public final class StubAgent {
    public struct Options: Sendable {
        public var name: String
        public var busy: Duration
        public var prompt: String
        /// A file that always holds the last message received, exactly (for tests and demos).
        public var record: String?
        public init(name: String, busy: Duration = .milliseconds(300), prompt: String = "stub> ", record: String? = nil) {
            self.name = name
            self.busy = busy
            self.prompt = prompt
            self.record = record
        }
    }

    public let options: Options
    public let responder: HeartbeatResponder
    private let output: FileHandle
    private var received = 0

    public init(options: Options, responder: HeartbeatResponder, output: FileHandle = .standardOutput) {
        self.options = options
        self.responder = responder
        self.output = output
    }

    static let pasteStart = "\u{1B}[200~", pasteEnd = "\u{1B}[201~"

    /// Reads lines until EOF. Text inside a bracketed paste is one message, however many lines.
    public func run(readLine: () -> String?) {
        let interactive = isatty(STDIN_FILENO) == 1
        // Ask the terminal to mark pastes, so a multi-line message arrives as one submission.
        if interactive { write("\u{1B}[?2004h") }
        write("mosaic stub agent \"\(options.name)\" ready. Type a message; /reset clears; EOF quits.\n")
        responder.start()
        var pasted: [String]?
        while true {
            if pasted == nil { write(options.prompt) }
            guard var line = readLine() else { break }
            if line.contains(Self.pasteStart) {
                line = line.replacingOccurrences(of: Self.pasteStart, with: "")
                pasted = []
            }
            if pasted != nil {
                if let end = line.range(of: Self.pasteEnd) {
                    pasted!.append(String(line[..<end.lowerBound]))
                    // The terminal is in canonical mode: the line holding the end marker is only
                    // delivered by the Enter that follows the paste, so that Enter submits the
                    // message (waiting for one more line would swallow the next message).
                    let message = pasted!.joined(separator: "\n") + line[end.upperBound...]
                    pasted = nil
                    handle(message)
                } else {
                    pasted!.append(line)
                }
                continue
            }
            handle(line)
        }
        if interactive { write("\u{1B}[?2004l") }
        responder.stop()
        write("\nstub \"\(options.name)\" exiting\n")
    }

    func handle(_ message: String) {
        if let record = options.record {
            do { try FileIO.writeAtomically(message, to: record, mode: 0o600) } catch { write("stub: \(error)\n") }
        }
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        let id = MessageFrame.id(in: trimmed)
        if MessageFrame.body(of: trimmed) == "/reset" {
            received = 0
            if let id { responder.acknowledge(id) }
            write("conversation reset\n")
            return
        }
        received += 1
        if let id { responder.acknowledge(id) }
        responder.setStatus("busy")
        Thread.sleep(forTimeInterval: options.busy.milliseconds / 1000)
        let lines = trimmed.split(separator: "\n", omittingEmptySubsequences: false)
        write("stub reply #\(received): got \(trimmed.utf8.count) bytes in \(lines.count) line(s)"
              + (id.map { ", message \($0)" } ?? "") + ": \(lines.first.map { String($0.prefix(60)) } ?? "")\n")
        responder.setStatus("ok")
    }

    func write(_ text: String) { output.write(Data(text.utf8)) }
}
