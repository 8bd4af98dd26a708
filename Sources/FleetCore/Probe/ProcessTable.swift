import Foundation

/// What /proc says about one process.
public struct ProcessSample: Sendable, Equatable, Codable {
    public var pid: Int32
    public var comm: String
    /// The kernel's one-letter state: R running, S sleeping, T stopped, Z zombie, …
    public var state: String
    /// Names of direct children (empty where the kernel does not expose them).
    public var children: [String]
    /// The process's descendants, breadth first and bounded (see `ProcessTable.sample`): where a
    /// runtime runs under a wrapper (`sh -c`, a node launcher), the runtime is one of these.
    public var descendants: [ProcessNode]
    /// Clock ticks after boot when the process started: with the pid, its identity (pids are reused).
    public var startTime: UInt64?
    /// For a zombie: its status as `waitpid` will report it (`/proc/<pid>/stat` field 52).
    public var waitStatus: Int32?

    public init(pid: Int32, comm: String, state: String, children: [String] = [], descendants: [ProcessNode] = [],
                startTime: UInt64? = nil, waitStatus: Int32? = nil) {
        self.pid = pid
        self.comm = comm
        self.state = state
        self.children = children
        self.descendants = descendants
        self.startTime = startTime
        self.waitStatus = waitStatus
    }

    /// The exit status of a zombie that exited normally (not by a signal).
    public var exitStatus: Int32? {
        guard isZombie, let waitStatus, waitStatus & 0x7f == 0 else { return nil }
        return (waitStatus >> 8) & 0xff
    }

    /// The signal that ended a zombie, if a signal did.
    public var exitSignal: Int32? {
        guard isZombie, let waitStatus, waitStatus & 0x7f != 0 else { return nil }
        return waitStatus & 0x7f
    }

    /// The root itself as a tree node.
    public var node: ProcessNode { ProcessNode(pid: pid, ppid: 0, comm: comm, state: state, startTime: startTime) }

    /// Parses `/proc/<pid>/stat`; comm may hold spaces and parentheses, so split at the last ')'.
    public static func parseStat(_ text: String) -> ProcessSample? {
        guard let node = ProcessNode.parseStat(text, fields: 1) else { return nil }
        return ProcessSample(pid: node.pid, comm: node.comm, state: node.state)
    }
}

/// A process described by the kernel's one-letter state (`/proc/<pid>/stat` field 3): one reading
/// of that letter for every kind of sample.
public protocol KernelProcessState {
    var state: String { get }
}

extension KernelProcessState {
    /// Stopped by a signal (T) or by a tracer (t).
    public var isStopped: Bool { state == "T" || state == "t" }
    /// Exited but not yet reaped (Z), or dead (X): gone in all but its process-table entry.
    public var isZombie: Bool { state == "Z" || state == "X" }
}

extension ProcessSample: KernelProcessState {}
extension ProcessNode: KernelProcessState {}

/// One process of a pane's tree: enough to tell what runs and whether it is stopped.
public struct ProcessNode: Sendable, Equatable, Codable {
    public var pid: Int32
    public var ppid: Int32
    public var comm: String
    public var state: String
    public var startTime: UInt64?

    public init(pid: Int32, ppid: Int32, comm: String, state: String, startTime: UInt64? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.comm = comm
        self.state = state
        self.startTime = startTime
    }

    /// Parses `/proc/<pid>/stat`: pid, comm, state, ppid (field 4) and starttime (field 22).
    public static func parseStat(_ text: String) -> ProcessNode? { parseStat(text, fields: 20) }

    /// Works on the UTF-8 view and splits off only the fields it needs: Character-wise search and a
    /// split of all 52 fields made these parsers most of `fleet ps`'s CPU time at 1000 agents.
    /// `fields: 1` reads the state alone (ppid 0, no start time).
    static func parseStat(_ text: String, fields: Int) -> ProcessNode? {
        let bytes = text.utf8
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")), let close = bytes.lastIndex(of: UInt8(ascii: ")")),
              open < close, let pid = Int32(text[..<open].trimmingWhitespace()) else { return nil }
        // rest[0] is field 3 (state), so field n is rest[n - 3].
        let rest = bytes[bytes.index(after: close)...].split(separator: UInt8(ascii: " "), maxSplits: fields)
            .map { Substring($0) }
        guard let state = rest.first else { return nil }
        let comm = String(text[bytes.index(after: open)..<close])
        if fields == 1 { return ProcessNode(pid: pid, ppid: 0, comm: comm, state: String(state)) }
        guard rest.count > 1, let ppid = Int32(rest[1]) else { return nil }
        let start = rest.count > 19 ? UInt64(rest[19]) : nil
        return ProcessNode(pid: pid, ppid: ppid, comm: comm, state: String(state), startTime: start)
    }
}

/// Reads the process plane straight from /proc: no process call at all.
public struct ProcessTable: Sendable {
    public let host: any Host
    public var procRoot: String { host.procRoot }
    /// How deep and how many descendants `sample` follows: a runtime sits at most a wrapper or
    /// two below the pane's process; the bound keeps `fleet ps` cheap whatever an agent spawns.
    public var maxDepth = 3
    public var maxDescendants = 32

    public init(host: any Host = LocalHost()) { self.host = host }

    /// The process table under another root (a captured one in tests).
    public init(procRoot: String) { self.host = LocalHost(procRoot: procRoot) }

    /// Waits until none of `pids` runs any more (gone or a zombie), or `timeout` passes.
    public static func waitForExit(_ pids: [Int32], timeout: Duration, host: any Host = LocalHost()) async {
        await ProcessTable(host: host).waitForExit(pids, timeout: timeout)
    }

    /// Waits until none of `pids` runs any more (gone or a zombie), or `timeout` passes: on the
    /// host's exit events, from a thread of its own (the wait blocks in poll).
    public func waitForExit(_ pids: [Int32], timeout: Duration) async {
        let waiting = pids.filter { $0 > 1 && $0 != getpid() }
        guard !waiting.isEmpty else { return }
        let host = self.host
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                _ = host.waitForExit(of: waiting, timeout: timeout)
                done.resume()
            }
        }
    }

    public func sample(_ pid: Int32) -> ProcessSample? {
        guard let text = host.readFile("\(procRoot)/\(pid)/stat", limit: 4096), var sample = ProcessSample.parseStat(text) else {
            return nil
        }
        let node = ProcessNode.parseStat(text)
        sample.startTime = node?.startTime
        if sample.isZombie { sample.waitStatus = ProcessNode.exitCode(inStat: text) }
        // Breadth first through `task/<pid>/children` (children of the main thread, which is
        // where shells, node launchers and python start theirs).
        var nodes: [ProcessNode] = []
        var level: [Int32] = [pid]
        var depth = 0
        while !level.isEmpty, depth < maxDepth, nodes.count < maxDescendants {
            var next: [Int32] = []
            for parent in level {
                guard let list = host.readFile("\(procRoot)/\(parent)/task/\(parent)/children", limit: 4096) else { continue }
                for child in list.split(separator: " ").compactMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                    guard nodes.count < maxDescendants else { break }
                    guard let node = host.readFile("\(procRoot)/\(child)/stat", limit: 4096).flatMap(ProcessNode.parseStat) else {
                        continue
                    }
                    nodes.append(node)
                    next.append(child)
                }
            }
            level = next
            depth += 1
        }
        sample.children = nodes.filter { $0.ppid == pid }.map(\.comm)
        sample.descendants = nodes
        return sample
    }
}

extension ProcessNode {
    /// Field 52 of `/proc/<pid>/stat`, `exit_code` (Linux 3.5+): for a zombie, its status as
    /// `waitpid` will report it. Read for zombies only, so the common parse stays short.
    static func exitCode(inStat text: String) -> Int32? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        return rest.count > 49 ? Int32(rest[49].trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }
}
