import Foundation
import Testing
@testable import FleetCore

@Suite("message framing")
struct MessageTests {
    @Test("the frame carries id and label, and the stub finds the id in it")
    func frame() throws {
        let m = try Message(id: "m1-abc", label: "ana@box", text: "hello\n")
        #expect(m.wireText == "[mosaic msg=m1-abc from=ana@box] hello")
        #expect(MessageFrame.id(in: m.wireText) == "m1-abc")
        #expect(try Message(id: "x", label: "l", text: "/clear", framed: false).wireText == "/clear")
    }

    @Test("the frame is read back as written: its id, its start, the text after it")
    func frameReadBack() throws {
        let m = try Message(id: "m1", label: "ops@box", text: "/reset")
        #expect(m.wireText == MessageFrame.render(id: "m1", label: "ops@box") + "/reset")
        #expect(MessageFrame.body(of: m.wireText) == "/reset")
        #expect(MessageFrame.body(of: "/reset") == "/reset" && MessageFrame.body(of: "[mosaic msg=m1] /reset") == "[mosaic msg=m1] /reset")
        #expect(m.wireText.hasPrefix(MessageFrame.start(of: "m1")))
        #expect(!(try Message(id: "m10", label: "l", text: "x")).wireText.contains(MessageFrame.start(of: "m1")), "m1's frame is not m10's")
        // Claude Code's hook saw a frame without a label; the id is what counts.
        #expect(MessageFrame.id(in: "[mosaic msg=abc123] Say hello.") == "abc123")
        #expect(MessageFrame.id(in: "typed by a person") == nil && MessageFrame.id(in: "[mosaic msg=] x") == nil)
        #expect(MessageFrame.id(in: "[mosaic msg=ab\u{FC}c from=l] x") == "ab", "ids are ASCII, as Message.isValidId")
    }

    @Test("fresh ids are valid and distinct")
    func ids() {
        let ids = (0..<200).map { _ in Message.newId() }
        #expect(Set(ids).count == 200)
        #expect(ids.allSatisfy(Message.isValidId))
        #expect(!Message.isValidId("a b") && !Message.isValidId("") && !Message.isValidId("a]"))
    }

    @Test("short single lines are typed as keys; long or multi-line messages are pasted")
    func delivery() throws {
        #expect(try Message(id: "a", label: "l", text: "short").delivery == .keys)
        #expect(try Message(id: "a", label: "l", text: "two\nlines").delivery == .paste)
        #expect(try Message(id: "a", label: "l", text: String(repeating: "x", count: 600)).delivery == .paste)
    }

    @Test("control characters, empty text, bad ids and labels are refused with the reason")
    func refusals() {
        #expect(throws: MessageError.controlCharacter(line: 2, code: 0x1B)) { try Message(id: "a", label: "l", text: "ok\nbad\u{1B}[201~") }
        #expect(throws: MessageError.controlCharacter(line: 1, code: 0x03)) { try Message(id: "a", label: "l", text: "\u{03}") }
        #expect(throws: MessageError.empty) { try Message(id: "a", label: "l", text: " \n\n ") }
        #expect(throws: MessageError.badId("a b")) { try Message(id: "a b", label: "l", text: "x") }
        #expect(throws: MessageError.badLabel("a]b")) { try Message(id: "a", label: "a]b", text: "x") }
        #expect(throws: Never.self) { try Message(id: "a", label: "l", text: "tabs\tare\tfine\r\nand CRLF too") }
    }

    @Test("a line-reading runtime gets no multi-line message and no line beyond the kernel's 4095 bytes")
    func shapeChecks() throws {
        let multi = try Message(id: "a", label: "l", text: "one\ntwo")
        #expect(throws: MessageError.multiLineUnsupported(agent: "py", shape: "line-prompt", lines: 2)) {
            try multi.check(against: .linePrompt, agent: "py")
        }
        #expect(throws: Never.self) { try multi.check(against: .stub, agent: "s") }
        #expect(throws: Never.self) { try multi.check(against: .ipython, agent: "i") }
        let long = try Message(id: "a", label: "l", text: String(repeating: "y", count: 5000))
        #expect(throws: MessageError.lineTooLong(agent: "s", line: 1, bytes: long.wireText.utf8.count)) {
            try long.check(against: .stub, agent: "s")
        }
        #expect(throws: Never.self) { try long.check(against: .shell, agent: "b") }
    }
}

@Suite("terminal text and control-mode lines")
struct TerminalTextTests {
    @Test("escape sequences and carriage returns go, text stays, also across chunk boundaries")
    func filter() {
        var t = TerminalText()
        let a = t.filter(Data("\u{1B}[32mgreen\u{1B}[0m\r\nnext \u{1B}]0;title\u{07}line\u{1B}[".utf8))
        let b = t.filter(Data("?2004hend\u{1B}(B!\n".utf8))
        #expect(String(decoding: a + b, as: UTF8.self) == "green\nnext lineend!\n")
    }

    @Test("%output lines decode octal escapes; other lines are not output")
    func controlOutput() throws {
        let (pane, data) = try #require(ControlLine.output(Data(#"%output %12 hi\015\012back\134slash"#.utf8)))
        #expect(pane == "%12")
        #expect(String(decoding: data, as: UTF8.self) == "hi\r\nback\\slash")
        #expect(ControlLine.output(Data("%begin 1 2 0".utf8)) == nil)
    }

    @Test("trailing padding is trimmed, also before a closing SGR sequence")
    func trim() {
        #expect(TerminalText.trimTrailingSpaces("~    ") == "~")
        #expect(TerminalText.trimTrailingSpaces("\u{1B}[94m~     \u{1B}[39m") == "\u{1B}[94m~\u{1B}[39m")
        #expect(TerminalText.trimTrailingSpaces("a b") == "a b")
    }
}
