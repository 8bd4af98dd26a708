import Foundation

/// A small append-only log for a detached process (the sidecar has no terminal to complain to).
/// Kept under `limit` bytes: when it would grow past, it starts over.
public struct SidecarLog: Sendable {
    public let path: String
    public var limit: off_t = 64 << 10

    public init(path: String) { self.path = path }

    public func write(_ line: String) {
        var info = stat()
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (stat(path, &info) == 0 && info.st_size > limit ? O_TRUNC : 0)
        let fd = open(path, flags, 0o600)
        // Nowhere else to report a failure to log: the sidecar's stdio is /dev/null by design.
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array("\(Timestamp.format(Date())) \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, bytes.count) }
    }
}
