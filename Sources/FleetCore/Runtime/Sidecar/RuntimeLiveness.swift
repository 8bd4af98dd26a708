import Foundation

/// Whether an agent's runtime process is really there and working, judged from its pane's
/// process tree. The sidecar refreshes a heartbeat only while this says `running`, and
/// `fleet ps` uses the same judgement to say why an agent is unhealthy.
public enum RuntimeLiveness: Sendable, Equatable {
    /// The runtime runs (as the pane's process, or under a wrapper) and is not stopped.
    case running(ProcessNode)
    /// The runtime, or the pane's process, is stopped (SIGSTOP that stuck, a debugger, …).
    case stopped(ProcessNode)
    /// The pane's process lives but no process in its tree is the runtime: it exited back to a
    /// shell, or the pane runs something else.
    case notRunning(rootCommand: String)
    /// The pane's process is gone (or its pid now belongs to another process).
    case gone

    public var isRunning: Bool { if case .running = self { return true } else { return false } }

    /// The word `fleet ps` shows (`runState`).
    public var word: String {
        switch self {
        case .running: return "running"
        case .stopped: return "stopped"
        case .notRunning: return "not-running"
        case .gone: return "exited"
        }
    }

    /// The process that stands for the runtime, if one does.
    public var process: ProcessNode? {
        switch self {
        case .running(let node), .stopped(let node): return node
        case .notRunning, .gone: return nil
        }
    }

    /// Judges a pane's process tree against what the runtime legitimately runs as.
    ///
    /// - The runtime process is the pane's process when its name is expected, else the first
    ///   expected process below it (breadth first): `sh -c 'aider …'`, a node launcher that
    ///   spawns a native binary.
    /// - Stopped when the pane's process or any expected process in the tree is stopped: tmux
    ///   continues a stopped pane process at once, but a stopped child stays stopped.
    /// - `expectedCommands == nil` (custom runtimes): only the pane's process is judged.
    /// - `identity`: the start time the watcher saw first; a different one means the pid was reused.
    public static func judge(_ sample: ProcessSample?, adapter: RuntimeAdapter, identity: UInt64? = nil) -> RuntimeLiveness {
        guard let sample, !sample.isZombie else { return .gone }
        if let identity, let start = sample.startTime, start != identity { return .gone }
        let root = sample.node
        guard adapter.expectedCommands != nil else {
            return root.isStopped ? .stopped(root) : .running(root)
        }
        func expected(_ node: ProcessNode) -> Bool { adapter.isDrift(paneCommand: node.comm) == false }
        let live = sample.descendants.filter { !$0.isZombie }
        let runtimeProcesses = (expected(root) ? [root] : []) + live.filter(expected)
        guard let runtime = runtimeProcesses.first else { return .notRunning(rootCommand: root.comm) }
        if root.isStopped { return .stopped(root) }
        if let stopped = runtimeProcesses.first(where: \.isStopped) { return .stopped(stopped) }
        return .running(runtime)
    }
}
