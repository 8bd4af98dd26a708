import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small file helpers with errors that name the path.
public enum FileIO {
    /// A pipe with close-on-exec set on both ends, so no child spawned meanwhile inherits it.
    public static func pipe(_ fds: inout [Int32]) -> Bool { SpawnRunner.makePipe(&fds) }

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
        // The umask narrows open's mode; a replaced file keeps exactly the mode asked for.
        _ = fchmod(fd, mode)
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

    /// Creates a directory with this mode if it is missing; an existing one keeps its mode.
    public static func ensureDirectory(_ path: String, mode: mode_t) throws {
        if !FileManager.default.fileExists(atPath: path) { try makeDirectory(path, mode: mode) }
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

extension FileIO {
    /// Replaces a small file's bytes without renaming it (a rename would leave a lock holder's
    /// open file behind, unnamed).
    public static func writeInPlace(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, reason: "cannot write: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Whether some process holds an flock on `path` now (probed with a non-blocking shared lock).
    public static func isLocked(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}
