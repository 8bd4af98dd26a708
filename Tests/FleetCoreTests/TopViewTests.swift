import Foundation
import Testing
@testable import FleetCore

@Suite("fleet top's model, drawing and keys")
struct TopViewTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A fleet of live stubs with fresh heartbeats; `waiting` reports waiting for input.
    static func snapshot(_ names: [String], waiting: String? = nil) -> FleetSnapshot {
        let roster = Roster(tenant: "t", host: "h", heartbeatIntervalSeconds: 10, agents: names.map { AgentSpec(name: $0, runtime: .stub) })
        let pids = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32(100 + $0)) })
        let readings = PlaneReadings(
            panes: names.map { PaneInfo(sessionName: $0, paneId: "%\(pids[$0]!)", pid: pids[$0]!, dead: false, deadStatus: nil,
                                        windowActivity: 1_800_000_000 - 3, currentCommand: "mosaic") },
            units: nil, enabledUnits: nil, linger: nil,
            processes: Dictionary(uniqueKeysWithValues: names.map { (pids[$0]!, ProcessSample(pid: pids[$0]!, comm: "mosaic", state: "S")) }),
            heartbeats: Dictionary(uniqueKeysWithValues: names.map {
                ($0, Heartbeat(ts: now.addingTimeInterval(-1), pid: pids[$0]!, status: $0 == waiting ? "waiting" : "ok"))
            }))
        return FleetSnapshot.join(roster: roster, readings: readings, now: now)
    }

    @Test("those waiting for the operator come first; the selection follows the agent across refreshes")
    func order() {
        var model = TopModel()
        model.update(Self.snapshot(["a", "b", "c"]))
        #expect(model.rows.map(\.name) == ["a", "b", "c"])
        _ = model.handle(.down)
        _ = model.handle(.down)
        #expect(model.selected == "c")
        model.update(Self.snapshot(["a", "b", "c"], waiting: "c"))
        #expect(model.rows.map(\.name) == ["c", "a", "b"])
        #expect(model.selectedIndex == 0 && model.selected == "c")
        _ = model.handle(.up)
        #expect(model.selected == "c", "already at the top")
    }

    @Test("s types one printable line and Enter sends it; Esc cancels; r asks before restarting")
    func keys() {
        var model = TopModel()
        model.update(Self.snapshot(["a", "b"]))
        #expect(model.handle(.char("s")) == nil)
        for c in "hi\u{7}!" { _ = model.handle(.char(c)) }
        _ = model.handle(.backspace)
        #expect(model.mode == .send(agent: "a", text: "hi"), "control characters never reach the text")
        #expect(model.handle(.enter) == .send(agent: "a", text: "hi"))
        #expect(model.mode == .browse)
        _ = model.handle(.char("s"))
        #expect(model.handle(.enter) == nil && model.status.contains("nothing sent"))
        _ = model.handle(.char("s"))
        _ = model.handle(.char("x"))
        #expect(model.handle(.escape) == nil && model.mode == .browse)
        _ = model.handle(.char("j"))
        _ = model.handle(.char("r"))
        #expect(model.mode == .confirmRestart(agent: "b"))
        #expect(model.handle(.char("n")) == nil && model.status == "restart cancelled")
        _ = model.handle(.char("r"))
        #expect(model.handle(.char("y")) == .restart("b"))
        #expect(model.handle(.char("w")) == .watch("b"))
        #expect(model.handle(.char("t")) == .tail("b"))
        #expect(model.handle(.char("q")) == .quit)
        #expect(model.handle(.interrupt) == .quit)
    }

    @Test("the drawing is exactly the terminal's height, no line wider than it, the selected row marked")
    func drawing() {
        var model = TopModel()
        model.update(Self.snapshot((1...40).map { "agent-with-a-long-name-\($0)" }))
        for _ in 0..<30 { _ = model.handle(.down) }
        let lines = TopRenderer.render(model, width: 80, height: 24, color: false, now: Self.now)
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(">") && $0.contains("-31") }, "scrolled to keep the selection visible: \(lines)")
        #expect(lines.last == "↑↓ move · w watch · t tail · s send · r restart · q quit")
        let coloured = TopRenderer.render(model, width: 80, height: 24, color: true, now: Self.now)
        #expect(coloured.contains { $0.contains("\u{1B}[7m") })
        #expect(!lines.joined().contains("\u{1B}"), "no escape codes without colour")
    }

    @Test("bytes become keys: arrows in both forms, Enter, Backspace, Ctrl-C, a lone Escape only once nothing follows, UTF-8")
    func decoding() {
        var bytes: [UInt8] = Array("\u{1B}[A\u{1B}OBjé\r\u{7F}\u{3}".utf8)
        #expect(TopKeyDecoder.decode(&bytes, final: false) == [.up, .down, .char("j"), .char("é"), .enter, .backspace, .interrupt])
        #expect(bytes.isEmpty)
        bytes = [0x1B]
        #expect(TopKeyDecoder.decode(&bytes, final: false).isEmpty && bytes == [0x1B], "an ESC may start a sequence")
        #expect(TopKeyDecoder.decode(&bytes, final: true) == [.escape])
        bytes = [0xC3]
        #expect(TopKeyDecoder.decode(&bytes, final: false).isEmpty && bytes == [0xC3], "half a character waits for the rest")
    }
}
