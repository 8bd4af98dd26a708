import Foundation

/// What /proc says about one process.
public struct ProcessSample: Sendable, Equatable, Codable {
    public var pid: Int32
    public var comm: String
    /// The kernel's one-letter state: R running, S sleeping, T stopped, Z zombie, …
    public var state: String
    /// Names of direct children (empty where the kernel does not expose them).
    public var children: [String]

    public init(pid: Int32, comm: String, state: String, children: [String] = []) {
        self.pid = pid
        self.comm = comm
        self.state = state
        self.children = children
    }

    public var isStopped: Bool { state == "T" || state == "t" }
    public var isZombie: Bool { state == "Z" }

    /// Parses `/proc/<pid>/stat`; comm may hold spaces and parentheses, so split at the last ')'.
    public static func parseStat(_ text: String) -> ProcessSample? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = Int32(text[..<open].trimmingCharacters(in: .whitespaces)) else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard let state = rest.first else { return nil }
        return ProcessSample(pid: pid, comm: comm, state: String(state))
    }
}

/// Reads the process plane straight from /proc: no process call at all.
public struct ProcessTable: Sendable {
    public let procRoot: String

    public init(procRoot: String = "/proc") { self.procRoot = procRoot }

    public func sample(_ pid: Int32) -> ProcessSample? {
        guard var sample = FileIO.readSmall("\(procRoot)/\(pid)/stat", limit: 4096).flatMap(ProcessSample.parseStat) else {
            return nil
        }
        if let children = FileIO.readSmall("\(procRoot)/\(pid)/task/\(pid)/children", limit: 4096) {
            sample.children = children.split(separator: " ").compactMap { Int32($0) }.compactMap {
                FileIO.readSmall("\(procRoot)/\($0)/comm", limit: 256)?.trimmingCharacters(in: .newlines)
            }
        }
        return sample
    }
}
