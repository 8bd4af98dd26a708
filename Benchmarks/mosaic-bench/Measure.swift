import Foundation
import FleetCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timing of whole processes. A measured child is started with posix_spawn and
/// reaped with a blocking waitpid on its own pid, so the figure is the process's life and not a
/// polling interval; nothing else in the benchmark runs while it is timed.
enum Measure {
    private static let currentChild = Atomic<Int32>(0)

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Kills the child being timed (on SIGINT and friends), by its pid.
    static func killCurrentChild() {
        let pid = currentChild.load(ordering: .relaxed)
        if pid > 0 { kill(pid, SIGKILL) }
    }

    /// Runs `argv` (stdout to /dev/null, stderr to `stderr`) and returns its wall-clock seconds;
    /// a non-zero exit is a SetupError with what it printed.
    static func time(_ argv: [String], _ environment: [String: String], stderr: String) throws -> Double {
        guard let path = argv[0].hasPrefix("/") ? argv[0] : SpawnRunner.resolve(argv[0], path: environment["PATH"]) else {
            throw SetupError("\(argv[0]) not found on PATH")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cargv = argv.map { strdup($0) } + [nil]
        let cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cargv.forEach { free($0) }; cenv.forEach { free($0) } }
        var pid: pid_t = 0
        let start = now()
        let rc = posix_spawn(&pid, path, &actions, &attr, cargv, cenv)
        guard rc == 0 else { throw SetupError("cannot start \(path): \(String(cString: strerror(rc)))") }
        currentChild.store(pid, ordering: .relaxed)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let elapsed = now() - start
        currentChild.store(0, ordering: .relaxed)
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        guard code == 0 else {
            let text = FileIO.readSmall(stderr, limit: 1 << 20) ?? ""
            throw SetupError("\(argv.prefix(3).joined(separator: " ")) exited \(code): \(text.suffix(2000))")
        }
        return elapsed
    }

    /// Peak RSS of one run as GNU time reports it from wait4 of its own child (a child spawned
    /// straight from this process would carry the benchmark's own RSS as its floor).
    static func peakRSSKB(gnuTime: String, _ argv: [String], _ environment: [String: String], scratch: String) throws -> Int {
        let out = "\(scratch)/rss"
        _ = try time([gnuTime, "-f", "%M", "-o", out] + argv, environment, stderr: "\(scratch)/rss-stderr")
        guard let kb = (FileIO.readSmall(out) ?? "").split(separator: "\n").last.flatMap({ Int($0) }) else {
            throw SetupError("GNU time wrote no peak RSS to \(out)")
        }
        return kb
    }

    static func findGNUTime() -> String? {
        let path = "/usr/bin/time"
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        let dir = NSTemporaryDirectory() + "/mosaic-bench-time-\(getpid())"
        try? FileIO.makeDirectory(dir, mode: 0o700)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let env = Optional(ProcessInfo.processInfo.environment),
              (try? peakRSSKB(gnuTime: path, ["true"], env, scratch: dir)) != nil else { return nil }
        return path
    }

    /// Every pane holds a pty in the tmux server, which inherits this limit through `fleet up`.
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max == rlim_t.max ? 65536 : limit.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }
}

/// The printed figures and the targets, as scripts/README-bench.md describes them.
struct Report {
    let options: Options
    let systemd: Bool
    let gnuTime: Bool
    let versions: [String]
    let fleets: [FleetFigures]
    let up: UpFigures?
    let upSystemd: UpFigures?

    /// Prints the report; true when every target is met.
    func print() -> Bool {
        var out: [String] = []
        let plane = systemd ? "systemd user manager (private)" : "no systemd (MOSAIC_SYSTEMD=off; floor and naive skip systemctl)"
        out.append("mosaic fleet ps benchmark · \(options.mosaic) · \(options.runs) runs per figure (median), interleaved · systemd plane: \(plane)")
        var load = [Double](repeating: 0, count: 3)
        getloadavg(&load, 3)
        out.append("host: \(ProcessInfo.processInfo.activeProcessorCount) CPUs, load average "
            + load.map { String(format: "%.2f", $0) }.joined(separator: " ") + " at the end; " + versions.joined(separator: ", "))
        if !systemd { out.append("note: the targets assume the systemd plane; without it naive and floor lose their systemctl calls") }
        out.append("")
        let header = zip(["agents", "floor ms", "mosaic ms", "naive ms", "mosaic/floor", "naive/mosaic", "ps RSS MB", "calls"],
                         [6, 10, 10, 11, 13, 13, 12, 7]).map { pad($0, $1) }.joined(separator: " ")
        out.append(header)
        out.append(String(repeating: "-", count: header.count))
        for f in fleets {
            let naive = f.naiveMs.map { String(format: "%11.1f", $0) } ?? pad("not run", 11)
            let speedup = f.naiveMs.map { String(format: "%12.1fx", $0 / f.mosaicMs) } ?? pad("-", 13)
            let rss = f.rssKB.map { String(format: "%12.1f", $0 / 1024) } ?? pad("n/a", 12)
            out.append(String(format: "%6d %10.1f %10.1f ", f.agents, f.floorMs, f.mosaicMs) + naive
                + String(format: " %12.2fx ", f.mosaicMs / f.floorMs) + speedup + " " + rss
                + String(format: " %7d", f.tmuxCalls + f.systemctlCalls))
        }
        let skipped = fleets.filter { $0.naiveMs == nil }.map(\.agents)
        if let most = skipped.max() {
            out.append("naive not measured at \(skipped.map(String.init).joined(separator: ", ")) agents (one systemctl and one tmux "
                + "call per agent: seconds per run; --naive-max \(most) to include)")
        }
        out.append("calls: tmux + systemctl processes one `fleet ps` started (logging shims on PATH): "
            + fleets.map { "\($0.agents) agents: \($0.tmuxCalls) tmux, \($0.systemctlCalls) systemctl" }.joined(separator: "; "))
        if let up {
            out.append(String(format: "fleet up of %d agents (tmux, MOSAIC_SYSTEMD=off, server start included): %.2f s median of %d (",
                              up.agents, Measure.median(up.up), up.up.count)
                + up.up.map { String(format: "%.2f", $0) }.joined(separator: ", ")
                + String(format: "); fleet down: %.2f s", Measure.median(up.down)))
        }
        if let upSystemd {
            out.append(String(format: "fleet up of %d agents through systemd units (one unit job per agent, holder included): %.2f s; fleet down: %.2f s",
                              upSystemd.agents, upSystemd.up[0], upSystemd.down[0]))
        }
        out.append("fleet up during setup: " + fleets.map { String(format: "%d agents %.2f s", $0.agents, $0.upSeconds) }.joined(separator: ", "))
        out.append("")

        var met: [Bool] = []
        func target(_ name: String, _ ok: Bool, _ detail: String) {
            met.append(ok)
            out.append("\(ok ? "PASS" : "FAIL")  \(name): \(detail)")
        }
        func skip(_ name: String, _ why: String) { out.append("SKIP  \(name): \(why)") }
        let sizes = Dictionary(fleets.map { ($0.agents, $0) }, uniquingKeysWith: { a, _ in a })
        for n in [200, 1000] {
            let name = "fleet ps within 2x the floor at \(n) agents"
            if let f = sizes[n] {
                let ratio = f.mosaicMs / f.floorMs
                target(name, ratio < 2, String(format: "%.2fx (%.1f ms vs %.1f ms)", ratio, f.mosaicMs, f.floorMs))
            } else { skip(name, "size not measured") }
        }
        let naiveName = "fleet ps over 50x faster than naive at 200 agents"
        if let f = sizes[200], let naive = f.naiveMs {
            let speedup = naive / f.mosaicMs
            target(naiveName, speedup > 50, String(format: "%.1fx (%.1f ms vs %.1f ms)", speedup, f.mosaicMs, naive))
        } else { skip(naiveName, "naive not measured at 200") }
        let rssName = "peak RSS of fleet ps at 1000 under 2x its peak at 10"
        if !gnuTime { skip(rssName, "GNU time not installed") }
        else if let small = sizes[10]?.rssKB, let large = sizes[1000]?.rssKB {
            target(rssName, large < 2 * small, String(format: "%.1f MB vs %.1f MB (%.2fx)", large / 1024, small / 1024, large / small))
        } else { skip(rssName, "sizes 10 and 1000 not both measured") }
        let counts = Set(fleets.map { [$0.tmuxCalls, $0.systemctlCalls] })
        let callsOK = counts.count == 1 && counts.allSatisfy { $0[0] <= 1 && $0[1] <= (systemd ? 1 : 0) }
        target("fleet ps makes a fixed number of process calls (at most one per plane)", callsOK,
               fleets.map { "\($0.agents) agents: \($0.tmuxCalls + $0.systemctlCalls)" }.joined(separator: ", "))
        if let up {
            let s = Measure.median(up.up)
            target("fleet up of \(up.agents) agents takes seconds (< \(options.upLimit) s)", s < options.upLimit, String(format: "%.2f s", s))
        }
        if let upSystemd {
            target("fleet up of \(upSystemd.agents) agents through systemd takes seconds (< \(options.upLimit) s)",
                   upSystemd.up[0] < options.upLimit, String(format: "%.2f s", upSystemd.up[0]))
        }
        FileHandle.standardOutput.write(Data((out.joined(separator: "\n") + "\n").utf8))
        return met.allSatisfy { $0 }
    }
}

/// `text` right-aligned in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}
