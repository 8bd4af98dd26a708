import Foundation

/// A small append-only log for a detached process (the sidecar has no terminal to complain to).
/// Kept under `limit` bytes: when it would grow past, it starts over.
public struct SidecarLog: Sendable {
    public let path: String
    public let host: any Host
    public var limit: Int64 = 64 << 10

    public init(path: String, host: any Host = LocalHost()) {
        self.path = path
        self.host = host
    }

    /// Nowhere else to report a failure to log: the sidecar's stdio is /dev/null by design.
    public func write(_ line: String) {
        host.appendToLog("\(Timestamp.format(host.now())) \(line)\n", at: path, limit: limit)
    }
}
