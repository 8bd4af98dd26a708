import Foundation

/// Follows a file a program appends lines to (aider's analytics log, Claude Code's transcript),
/// from where it ended when following began; a file that does not exist yet is read from its
/// start once it appears. A partial last line waits for its newline; a file that shrank (replaced
/// or truncated) is read again from its start.
public final class LineFollower {
    public let path: String
    public let host: any Host
    private var offset: Int64
    private var pending = Data()

    public convenience init(path: String) { self.init(path: path, host: LocalHost()) }

    public init(path: String, host: any Host) {
        self.path = path
        self.host = host
        offset = host.status(path)?.size ?? 0
    }

    /// The complete lines appended since the last call (at most 1 MiB a call), or why the file
    /// could not be read.
    public func read() -> (lines: [Substring], problem: String?) {
        // No file yet: the program has not written its first line.
        guard let size = host.status(path)?.size else { return ([], nil) }
        if size < offset {
            offset = 0
            pending = Data()
        }
        guard size > offset else { return ([], nil) }
        let chunk: Data
        do { chunk = try host.readBytes(path, from: offset, limit: Int(min(size - offset, 1 << 20))) } catch {
            return ([], "\(error)")
        }
        guard !chunk.isEmpty else { return ([], nil) }
        offset += Int64(chunk.count)
        pending.append(chunk)
        guard let lastNewline = pending.lastIndex(of: 0x0A) else { return ([], nil) }
        let complete = pending[pending.startIndex...lastNewline]
        pending = Data(pending[pending.index(after: lastNewline)...])
        return (String(decoding: complete, as: UTF8.self).split(separator: "\n"), nil)
    }
}
