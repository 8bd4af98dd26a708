import FleetCore
import Foundation

/// Where commands print: results to stdout, diagnostics and progress to stderr.
enum Console {
    static func out(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    static func error(_ text: String) { FileHandle.standardError.write(Data("mosaic: \(text)\n".utf8)) }
    static func note(_ text: String) { FileHandle.standardError.write(Data("\(text)\n".utf8)) }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static var useColor: Bool {
        stdoutIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    static var width: Int? {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init)
    }

    /// A `--json` document, its keys in the order its type writes them.
    static func json<T: Encodable>(_ document: T) throws { out(try OrderedJSONEncoder().render(document) + "\n") }

    /// A one-line progress meter on a terminal; silent when stderr is not a terminal.
    @Sendable static func progress(_ p: FleetCore.Progress) {
        guard stderrIsTerminal else { return }
        let line = "\r\(p.phase) \(p.done)/\(p.total)"
        FileHandle.standardError.write(Data((p.done == p.total ? line + "\n" : line).utf8))
    }
}
