import Foundation
import Testing
@testable import FleetCore
@testable import FleetDaemon
#if canImport(Glibc)
import Glibc
#endif

@Suite("daemon parts: the lock, sd_notify, snapshot changes")
struct DaemonPartsTests {
    @Test("a second lock on the same home fails at once, naming the holder's pid; released, it can be taken")
    func lock() throws {
        let dir = try TempDir()
        let path = dir.path + "/daemon.lock"
        let first = try DaemonLock(path: path, pid: 4711)
        #expect(DaemonLock.isHeld(path))
        #expect(throws: DaemonLock.Failure.held(path: path, pid: 4711)) { try DaemonLock(path: path, pid: 1) }
        #expect("\(DaemonLock.Failure.held(path: path, pid: 4711))".contains("pid 4711"))
        first.release()
        // A child being spawned by another test holds a copy of every descriptor until its exec
        // closes the close-on-exec ones: the release shows within moments, not necessarily at once.
        let deadline = Date().addingTimeInterval(2)
        while DaemonLock.isHeld(path) && Date() < deadline { usleep(1000) }
        #expect(!DaemonLock.isHeld(path))
        let second = try DaemonLock(path: path, pid: 1234)
        #expect(DaemonLock.holder(path) == 1234)
        second.release()
    }

    @Test("sd_notify sends one datagram with the state to NOTIFY_SOCKET; without the variable it does nothing")
    func notify() throws {
        let dir = try TempDir()
        let path = dir.path + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"])
        #expect(notifier.watchdogInterval == .seconds(4))
        #expect(notifier.notify("READY=1\nSTATUS=adopted 2 of 3 agents"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(n > 0)
        #expect(String(decoding: buffer.prefix(max(0, n)), as: UTF8.self) == "READY=1\nSTATUS=adopted 2 of 3 agents")
        #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"], pid: 2).watchdogInterval == nil)
    }

    @Test("between two snapshots: a pane that died is an exit with its status and last output, a new pane a start, a state change from the heartbeat")
    func changes() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let roster = Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 10, agents: [
            AgentSpec(name: "a", runtime: .stub), AgentSpec(name: "b", runtime: .stub), AgentSpec(name: "c", runtime: .stub),
        ])
        func pane(_ name: String, _ pid: Int32, dead: Bool = false, status: Int32? = nil) -> PaneInfo {
            PaneInfo(sessionName: name, paneId: "%\(pid)", pid: pid, dead: dead, deadStatus: status,
                     windowActivity: 1_800_000_000, currentCommand: "mosaic")
        }
        let procs: [Int32: ProcessSample] = [1: ProcessSample(pid: 1, comm: "mosaic", state: "S"),
                                              2: ProcessSample(pid: 2, comm: "mosaic", state: "S"),
                                              3: ProcessSample(pid: 3, comm: "mosaic", state: "S")]
        let before = FleetSnapshot.join(roster: roster, readings: PlaneReadings(
            panes: [pane("a", 1), pane("b", 2)], units: nil, enabledUnits: nil, linger: nil, processes: procs,
            heartbeats: ["a": Heartbeat(ts: now, pid: 1, status: "ok"), "b": Heartbeat(ts: now, pid: 2, status: "ok")]), now: now)
        let after = FleetSnapshot.join(roster: roster, readings: PlaneReadings(
            panes: [pane("a", 1, dead: true, status: 2), pane("b", 2), pane("c", 3)], units: nil, enabledUnits: nil, linger: nil,
            processes: procs,
            heartbeats: ["b": Heartbeat(ts: now, pid: 2, status: "busy"), "c": Heartbeat(ts: now, pid: 3)],
            lastOutput: ["a": ["working", "Error: out of tokens"]]), now: now)
        let events = SnapshotChanges.events(from: before, to: after, now: now)
        #expect(events.map(\.kind) == [.agentExited, .stateChanged, .agentStarted])
        #expect(events[0].agent == "a" && events[0].detail.status == 2 && events[0].detail.lastOutput == "Error: out of tokens")
        #expect(events[1].agent == "b" && events[1].detail.from == "ok" && events[1].detail.to == "busy")
        #expect(events[2].agent == "c" && events[2].detail.pid == 3 && events[2].detail.from == "missing")
        #expect(SnapshotChanges.events(from: after, to: after, now: now).isEmpty)
    }

    @Test("--since takes a duration back from now or an ISO time; anything else is refused")
    func since() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(SinceParser.parse("1h", now: now) == now.addingTimeInterval(-3600))
        #expect(SinceParser.parse("90s", now: now) == now.addingTimeInterval(-90))
        #expect(SinceParser.parse("7d", now: now) == now.addingTimeInterval(-7 * 86_400))
        #expect(SinceParser.parse("2027-01-15T08:00:00Z", now: now) == now)
        #expect(SinceParser.parse("yesterday", now: now) == nil)
        #expect(SinceParser.parse("-1h", now: now) == nil)
    }
}
