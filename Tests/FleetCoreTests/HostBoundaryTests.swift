import Foundation
import Testing
@testable import FleetCore

/// Proves the Host seam holds: outside the Host's own files nothing in Sources/ reaches the
/// machine by itself.
///
/// The rule, per line of every Swift file under Sources/ (comments removed, string literals
/// kept, so a `"/proc/..."` path counts):
/// - the Host's own files are those under `Sources/FleetCore/Host/` and the spawn layer it
///   drives, `Sources/FleetCore/Process/`; they are the only ones exempt;
/// - forbidden elsewhere: a `"/proc` path; process creation (`posix_spawn`, `fork(`, `vfork(`,
///   `exec…(`, `system(`, `popen(`, Foundation's `Process`); constructing the spawn layer
///   directly (`SpawnRunner`, `ChildProcess(`, `StreamingChild(`, `LongRunning.`); file access
///   (`open(`, `fopen(`, `opendir(`, `FileManager`, `FileHandle(`, `contentsOfFile`,
///   `Data(contentsOf`, `.write(to`, `unlink(`, `rmdir(`, `rename(`, `stat(`, `access(`,
///   `pread(`); and the kernel's other doors (`kill(`, `inotify_`, `pidfd`, `getpwuid`,
///   `gethostname`).
/// The standard streams (`FileHandle.standardOutput`) stay allowed: writing a result is not
/// reaching into the machine. Matching is on whole words, so `reopen(`, `isOpen(` or a
/// variable named `open` do not count.
@Suite("host boundary")
struct HostBoundaryTests {
    static let rules: [(String, String)] = [
        ("a /proc path", #""/proc"#),
        ("process creation", #"\b(posix_spawnp?|v?fork|execv[pe]*|execl[pe]*|system|popen)\("#),
        ("Foundation's Process", #"\bFoundation\.Process\b|(?<![\w.])Process\("#),
        ("the spawn layer", #"\bSpawnRunner\b|\bChildProcess\(|\bStreamingChild\(|\bLongRunning\."#),
        ("file access", #"(?<![\w.])(open|fopen|opendir|unlink|rmdir|rename|stat|lstat|access|pread)\(|\bFileManager\b|\bFileHandle\(|contentsOfFile|Data\(contentsOf|\.write\(to(File)?:"#),
        ("kernel access", #"(?<![\w.])kill\(|\binotify_|\bpidfd|\bgetpwuid|\bgethostname"#),
    ]

    /// Compiled per use (ICU's engine: Swift's own regexes have no lookbehind).
    static var forbidden: [(String, NSRegularExpression)] {
        rules.map { ($0.0, try! NSRegularExpression(pattern: $0.1)) }
    }

    static let exempt = ["Sources/FleetCore/Host/", "Sources/FleetCore/Process/"]

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The line without its `//` comment (a `//` inside a string literal is kept).
    static func code(_ line: Substring) -> Substring {
        var inString = false, escaped = false, previous: Character = " "
        for index in line.indices {
            let ch = line[index]
            if inString {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
            } else if ch == "\"" {
                inString = true
            } else if ch == "/" && previous == "/" {
                return line[..<line.index(before: index)]
            }
            previous = inString ? " " : ch
        }
        return line
    }

    static func violations(in text: String) -> [String] {
        var found: [String] = []
        let forbidden = Self.forbidden
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = String(Self.code(line))
            let range = NSRange(code.startIndex..., in: code)
            for (what, pattern) in forbidden where pattern.firstMatch(in: code, range: range) != nil {
                found.append("line \(number + 1): \(what): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        return found
    }

    @Test("the rule catches each kind of access, and not comments or look-alike names")
    func ruleBites() {
        for line in [#"let fd = open(path, O_RDONLY)"#, #"let t = "/proc/\(pid)/stat""#, "posix_spawn(&pid, p, nil, nil, a, e)",
                     "let p = Process()", "FileManager.default.fileExists(atPath: x)", "try SpawnRunner.runBlocking(i)",
                     "unlink(path)", "kill(pid, SIGTERM)", "_ = stat(path, &info)", "try LongRunning.exec(inv)"] {
            #expect(!Self.violations(in: line).isEmpty, "\(line) must count")
        }
        for line in ["// open(path) in a comment", "let reopen = isOpen(x)", "let open = bytes.firstIndex(of: 1)",
                     "FileHandle.standardOutput.write(data)", "host.removeFile(path)", #"let s = "a // b""#,
                     "struct ProcessTable {", "ProcessResult(status: 0)"] {
            #expect(Self.violations(in: line).isEmpty, "\(line) must not count")
        }
    }

    @Test("no file outside the Host's own reads /proc, spawns a process or opens a file by itself")
    func nothingBypassesTheHost() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources.path))
        var scanned = 0, problems: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let path = "Sources/" + relative
            guard !Self.exempt.contains(where: path.hasPrefix) else { continue }
            let text = try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)
            scanned += 1
            problems += Self.violations(in: text).map { "\(path) \($0)" }
        }
        #expect(scanned > 50, "the scan found the sources (\(scanned) files)")
        #expect(problems.isEmpty, Comment(rawValue: "go through the Host instead:\n" + problems.joined(separator: "\n")))
    }
}
