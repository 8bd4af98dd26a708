import Foundation
import Testing
@testable import FleetCore

@Suite("tail: what a person would see", .serialized)
struct TailTests {
    @Test("tail shows vim's full screen, not a blank")
    func vim() async throws {
        let fleet = try TestFleet()
        // -n: no swap file, which vim could still be writing (on SIGHUP) while the home is removed.
        let file = "\(fleet.home)/notes.txt"
        try "first line of the file\nsecond line\n".write(toFile: file, atomically: true, encoding: .utf8)
        try fleet.writeRoster(agents: "  - name: editor\n    runtime: custom\n    command: \"vim -u NONE -N -n \(file)\"\n")
        #expect(try await fleet.mosaic(["fleet", "up"]).status == 0)
        try await fleet.waitUntil("vim draws") { try await fleet.mosaic(["agent", "tail", "editor"]).stdout.contains("second line") }
        let tail = try await fleet.mosaic(["agent", "tail", "editor"])
        #expect(tail.status == 0)
        let lines = tail.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "first line of the file")
        #expect(lines.contains("~"), "vim's empty-line markers show")
        #expect(tail.stdout.contains("notes.txt"), "vim's status line shows")
        #expect(!lines.contains { $0.hasSuffix(" ") }, "no padding")
        #expect(tail.stderr.contains("full-screen"))
        let few = try await fleet.mosaic(["agent", "tail", "editor", "-n", "3"]).stdout
        #expect(few.split(separator: "\n").count == 3)
    }

    @Test("tail -n reads history above the screen; the default is the screen")
    func history() async throws {
        let fleet = try TestFleet()
        try fleet.writeRoster(agents: "  - name: counter\n    runtime: custom\n    command: \"sh -c 'seq 1 300; exec cat'\"\n")
        try await fleet.mosaic(["fleet", "up"])
        try await fleet.waitUntil("seq ran") { try await fleet.mosaic(["agent", "tail", "counter"]).stdout.contains("300") }
        let screen = try await fleet.mosaic(["agent", "tail", "counter"]).stdout.split(separator: "\n")
        // 50 rows: 252…300 and the cursor's empty row, which is trimmed
        #expect(screen.count == 49 && screen.first == "252" && screen.last == "300")
        let more = try await fleet.mosaic(["agent", "tail", "counter", "-n", "120"]).stdout.split(separator: "\n")
        #expect(more.count == 120 && more.first == "181" && more.last == "300")
    }
}
