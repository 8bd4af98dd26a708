import Foundation

/// The run directory: one `<agent>.hb` per agent, written atomically, and `<agent>.probe` requests.
public struct HeartbeatStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func heartbeatPath(_ agent: String) -> String { "\(directory)/\(agent).hb" }
    public func probePath(_ agent: String) -> String { "\(directory)/\(agent).probe" }
    /// Held by `agent send` from the draft check until the verdict (see FileLock).
    public func sendLockPath(_ agent: String) -> String { "\(directory)/\(agent).send.lock" }

    public func read(_ agent: String) -> Heartbeat? {
        FileIO.readSmall(heartbeatPath(agent)).flatMap(Heartbeat.parse)
    }

    /// Replaces the heartbeat atomically: readers see the old file or the new one, never a half.
    public func write(_ heartbeat: Heartbeat, for agent: String) throws {
        try AgentName.validate(agent)
        for value in [heartbeat.status, heartbeat.nonce ?? "", heartbeat.ack ?? ""] + heartbeat.extra.map(\.1)
        where value.contains("\n") || value.contains("\r") {
            throw FileIO.Failure(path: heartbeatPath(agent), reason: "a heartbeat value may not contain a line break")
        }
        try FileIO.writeAtomically(heartbeat.serialized(), to: heartbeatPath(agent), mode: 0o600)
    }

    /// Asks the agent for a fresh heartbeat that echoes `nonce`.
    public func requestProbe(_ agent: String, nonce: String, now: Date = Date()) throws {
        try FileIO.writeAtomically("nonce=\(nonce)\nts=\(Timestamp.format(now))\n", to: probePath(agent), mode: 0o600)
    }

    /// The nonce of the pending probe request, if any.
    public func pendingProbe(_ agent: String) -> String? {
        guard let text = FileIO.readSmall(probePath(agent)) else { return nil }
        return KeyValueLines.values(text)["nonce"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Removes what the agent left in the run directory (heartbeat, probe request, send lock).
    public func remove(_ agent: String) {
        unlink(heartbeatPath(agent))
        unlink(probePath(agent))
        unlink(sendLockPath(agent))
    }

    public func clearProbe(_ agent: String) { unlink(probePath(agent)) }
}

/// Small file helpers with errors that name the path.
public enum FileIO {
    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads a file of at most 64 KiB with one open/read/close; `nil` if absent or unreadable.
    public static func readSmall(_ path: String, limit: Int = 65536) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // Heartbeats and /proc files are a few hundred bytes: start small and grow up to `limit`
        // (a zeroed 64 KiB buffer per file was measurable with 1000 agents).
        var buffer = [UInt8](repeating: 0, count: min(limit, 4096))
        var total = 0
        while total < limit {
            if total == buffer.count { buffer += [UInt8](repeating: 0, count: min(buffer.count, limit - total)) }
            let room = buffer.count - total
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, room) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            total += n
        }
        return String(decoding: buffer[0..<total], as: UTF8.self)
    }

    /// Writes a temp file in the same directory, then renames it over the target.
    public static func writeAtomically(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let temp = "\(dir)/.\(base).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(path: path, reason: "cannot write: \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let reason = String(cString: strerror(errno))
                close(fd); unlink(temp)
                throw Failure(path: path, reason: "cannot write: \(reason)")
            }
            written += n
        }
        close(fd)
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw Failure(path: path, reason: "cannot replace: \(reason)")
        }
    }

    /// Creates a directory (and parents) and forces its mode.
    public static func makeDirectory(_ path: String, mode: mode_t) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Failure(path: path, reason: "cannot create directory: \(error.localizedDescription)")
        }
        guard chmod(path, mode) == 0 else {
            throw Failure(path: path, reason: "cannot set mode: \(String(cString: strerror(errno)))")
        }
    }
}
