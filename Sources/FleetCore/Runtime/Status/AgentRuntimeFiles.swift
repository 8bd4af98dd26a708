import Foundation

/// Where an agent's runtime files live: in the run directory (mode 0700), named
/// `<agent>.<suffix>`. Agent names hold no dot, so a name never reaches into another agent's
/// files. Everything here is removed when the agent stops.
public struct AgentRuntimeFiles: Sendable, Equatable {
    public let runDirectory: String
    public let agent: String

    public init(runDirectory: String, agent: String) {
        self.runDirectory = runDirectory
        self.agent = agent
    }

    // Each runtime's own files are named in its file under Runtime/Adapters (`claudeSettings`, …).

    /// Where the sidecar writes what went wrong, if anything did.
    public var sidecarLog: String { path("sidecar.log") }
    /// The running sidecar's pid and start time, so `down` can stop it.
    public var sidecarPid: String { path("sidecar.pid") }

    func path(_ suffix: String) -> String { "\(runDirectory)/\(agent).\(suffix)" }

    /// Writes files an integration needs before the runtime starts (directories as needed).
    public func write(_ files: [AgentFile], host: any Host = LocalHost()) throws {
        for file in files {
            let dir = (file.path as NSString).deletingLastPathComponent
            if !host.fileExists(dir) { try host.makeDirectory(dir, mode: 0o700) }
            if host.readFile(file.path) != file.contents {
                try host.writeFile(file.contents, to: file.path, mode: 0o600)
            }
        }
    }

    /// Stops the agent's sidecar, if one runs, and waits (bounded) until it is gone: after
    /// `down` nothing may write the agent's heartbeat again, even if its runtime ignored the
    /// SIGHUP of its closing pane and lives on.
    public func stopSidecar(host: any Host = LocalHost(), timeout: Duration = .seconds(2)) {
        defer { host.removeFile(sidecarPid) }
        guard let record = SidecarRecord.parse(host.readFile(sidecarPid) ?? ""),
              ProcessTable(host: host).sample(record.pid)?.startTime == record.startTime else { return }
        host.signal(record.pid, SIGTERM)
        _ = host.waitForExit(of: [record.pid], timeout: timeout)
    }

    /// Removes every runtime file of this agent, whichever runtime wrote it (the roster may have
    /// changed since), the directories they were in, and the state the hooks kept; stops its
    /// sidecar first.
    public func removeAll(host: any Host = LocalHost()) {
        stopSidecar(host: host)
        let files = Runtimes.all.flatMap { $0.runFiles(self) } + [sidecarLog]
        for file in files { host.removeFile(file) }
        // Directories a runtime's files sit in below the run directory (opencode's config
        // directory), innermost first; one that is not empty stays.
        var directories = Set<String>()
        for file in files where file.hasPrefix(runDirectory + "/") {
            let parts = file.dropFirst(runDirectory.count + 1).split(separator: "/").dropLast()
            for depth in parts.indices { directories.insert(([runDirectory] + parts[...depth].map(String.init)).joined(separator: "/")) }
        }
        for dir in directories.sorted(by: { $0.count > $1.count }) { host.removeDirectory(dir) }
        RuntimeStateStore(directory: runDirectory, host: host).remove(agent)
    }
}

/// `<agent>.sidecar.pid`: which process is the agent's sidecar (pid and start time, as pids are reused).
public struct SidecarRecord: Sendable, Equatable {
    public var pid: Int32
    public var startTime: UInt64

    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    public var serialized: String { "pid=\(pid)\nstart=\(startTime)\n" }

    public static func parse(_ text: String) -> SidecarRecord? {
        let values = KeyValueLines.values(text)
        guard let pid = values["pid"].flatMap(Int32.init), let start = values["start"].flatMap(UInt64.init) else { return nil }
        return SidecarRecord(pid: pid, startTime: start)
    }
}
