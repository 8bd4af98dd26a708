import Foundation

/// Follows a file a program appends lines to (aider's analytics log, Claude Code's transcript),
/// from where it ended when following began; a file that does not exist yet is read from its
/// start once it appears. A partial last line waits for its newline; a file that shrank (replaced
/// or truncated) is read again from its start.
public final class LineFollower {
    public let path: String
    private var offset: off_t
    private var pending = Data()

    public init(path: String) {
        self.path = path
        var info = stat()
        offset = stat(path, &info) == 0 ? info.st_size : 0
    }

    /// The complete lines appended since the last call (at most 1 MiB a call), or why the file
    /// could not be read.
    public func read() -> (lines: [Substring], problem: String?) {
        var info = stat()
        // No file yet: the program has not written its first line.
        guard stat(path, &info) == 0 else { return ([], nil) }
        if info.st_size < offset {
            offset = 0
            pending = Data()
        }
        guard info.st_size > offset else { return ([], nil) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ([], "\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let count = Int(min(info.st_size - offset, 1 << 20))
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, offset) }
        guard n > 0 else { return ([], nil) }
        offset += off_t(n)
        pending.append(contentsOf: buffer[0..<n])
        guard let lastNewline = pending.lastIndex(of: 0x0A) else { return ([], nil) }
        let complete = pending[pending.startIndex...lastNewline]
        pending = Data(pending[pending.index(after: lastNewline)...])
        return (String(decoding: complete, as: UTF8.self).split(separator: "\n"), nil)
    }
}
