import Foundation
import Testing
@testable import FleetCore

/// The draft classifier on real screens, captured with `capture-pane -p -e` from tmux 3.3a
/// (Fixtures/screens; manifest.jsonl holds each capture's cursor, width, pane command, the
/// runtime whose adapter reads it (custom when not given) and the expected reading).
@Suite("input line: drafts, empty prompts and ghost text on captured screens")
struct InputLineTests {
    struct Fixture {
        var file: String
        var cursorX: Int
        var cursorY: Int
        var width: Int
        var command: String
        /// The runtime whose adapter reads this screen (`custom`: the generic shapes).
        var runtime: RuntimeKind
        var expect: String
        var capture: String
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/screens")

    static func fixtures() throws -> [Fixture] {
        let manifest = try String(contentsOf: directory.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        return try manifest.split(separator: "\n").map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let file = try #require(o["file"] as? String)
            return Fixture(file: file, cursorX: try #require(o["cursorX"] as? Int), cursorY: try #require(o["cursorY"] as? Int),
                           width: try #require(o["width"] as? Int), command: try #require(o["command"] as? String),
                           runtime: try #require(RuntimeKind(rawValue: o["runtime"] as? String ?? "custom")),
                           expect: try #require(o["expect"] as? String),
                           capture: try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8))
        }
    }

    func classify(_ f: Fixture, runtime: RuntimeKind? = nil) -> InputLineState {
        let shapes = InputLineReader.shapes(for: Runtimes.of(runtime ?? f.runtime), command: f.command)
        return InputLineReader(shapes: shapes).classify(Screen.parse(f.capture), cursorX: f.cursorX, cursorY: f.cursorY, width: f.width).state
    }

    @Test("every captured screen reads as expected (empty, draft text, no prompt)")
    func manifest() throws {
        let all = try Self.fixtures()
        #expect(all.count >= 12)
        for f in all where !f.expect.hasPrefix("typed:") {
            let state = classify(f, runtime: f.runtime)
            switch f.expect {
            case "empty": #expect(state == .empty(shape: state.shapeName ?? ""), "\(f.file): \(state)")
            case "noPrompt": #expect(state == .noPrompt, "\(f.file): \(state)")
            default:
                let text = String(f.expect.dropFirst("draft:".count))
                guard case .draft(_, let shown) = state else { Issue.record("\(f.file): expected a draft, got \(state)"); continue }
                #expect(shown == text, "\(f.file)")
            }
        }
    }

    @Test("the stub's own adapter reads the stub's screens")
    func stubAdapter() throws {
        let stub = try Self.fixtures().filter { $0.file.hasPrefix("stub-") }
        #expect(classify(stub.first { $0.expect == "empty" }!, runtime: .stub) == .empty(shape: "stub"))
        #expect(classify(stub.first { $0.expect != "empty" }!, runtime: .stub) == .draft(shape: "stub", text: "half a thought"))
    }

    @Test("aider's own adapter reads aider's screens: empty prompt, a draft, working (no prompt)")
    func aiderAdapter() throws {
        let aider = try Self.fixtures().filter { $0.file.hasPrefix("aider-") }
        #expect(aider.count == 4)
        for f in aider {
            let state = classify(f, runtime: .aider)
            switch f.expect {
            case "empty": #expect(state == .empty(shape: "aider"), "\(f.file): \(state)")
            case "noPrompt": #expect(state == .noPrompt, "\(f.file): \(state)")
            default: #expect(state == .draft(shape: "aider", text: String(f.expect.dropFirst("draft:".count))), "\(f.file): \(state)")
            }
        }
    }

    @Test("codex's own adapter reads codex's screens: empty composer with its dim placeholder, drafts (wrapped, multi-line, typed while it works)")
    func codexAdapter() throws {
        let codex = try Self.fixtures().filter { $0.file.hasPrefix("codex-") }
        #expect(codex.count == 10)
        for f in codex {
            let state = classify(f, runtime: .codex)
            switch f.expect {
            case "empty": #expect(state == .empty(shape: "codex"), "\(f.file): \(state)")
            // The approval prompt: its `› 1. Yes, proceed (y)` is a selection, not the composer;
            // the cursor is on the hint row below it.
            case "noPrompt": #expect(state == .noPrompt, "\(f.file): \(state)")
            default: #expect(state == .draft(shape: "codex", text: String(f.expect.dropFirst("draft:".count))), "\(f.file): \(state)")
            }
        }
        let empty = try #require(codex.first { $0.file == "codex-empty.ansi" })
        let row = Screen.parse(empty.capture).rows[empty.cursorY]
        #expect(row.text == "› Ask Codex to do anything" && row.typedText == "› ", "the placeholder is dim: ghost, not a draft")
        // The same screens through the generic line prompt (a custom runtime running codex): the
        // one-line ones read alike, but wrapped and multi-line drafts need the continuation rows.
        let wrapped = try #require(codex.first { $0.file == "codex-draft-wrapped.ansi" })
        #expect(classify(wrapped, runtime: .custom) == .noPrompt)
    }

    @Test("codex: the composer is on the alternate screen; its line is cleared with C-k and C-u, never C-c")
    func codexKeys() {
        let adapter = Runtimes.of(.codex)
        #expect(adapter.usesAlternateScreen && adapter.inputShapes.map(\.name) == ["codex"])
        let keys = InputShape.codex.clearKeys
        #expect(Set(keys) == ["C-k", "C-u"] && keys.firstIndex(of: "C-u")! > keys.lastIndex(of: "C-k")!)
        #expect(InputShape.codex.bracketedPaste && InputShape.codex.editor.continuesOnRows)
        #expect(InputShape.codex.submitPause >= .milliseconds(120), "past codex's paste-burst window before Enter")
        #expect(InputShape.aider.submitPause == .zero && InputShape.shell.submitPause == .zero)
        #expect(InputLineReader.shapes(for: adapter, command: "codex").map(\.name) == ["codex"])
        #expect(InputLineReader.shapes(for: adapter, command: "bash").isEmpty, "a shell in codex's pane is not codex's composer")
    }

    @Test("codex shows a paste of more than 1000 characters as a placeholder: it stands for the message only at the message's length")
    func codexPastePlaceholder() throws {
        let f = try #require(try Self.fixtures().first { $0.file == "codex-draft-paste-placeholder.ansi" })
        guard case .draft(_, let shown) = classify(f) else { Issue.record("expected a draft"); return }
        // What was pasted: `word0 word1 … word199`, 1489 characters.
        let pasted = (0..<200).map { "word\($0)" }.joined(separator: " ")
        #expect(pasted.count == 1489)
        #expect(InputShape.codex.showsPastePlaceholder(shown, for: pasted))
        #expect(!InputShape.codex.showsPastePlaceholder(shown, for: pasted + "!"), "another length: someone else's paste")
        #expect(!InputShape.codex.showsPastePlaceholder("x " + shown, for: pasted), "the placeholder alone, nothing typed around it")
        #expect(!InputShape.aider.showsPastePlaceholder(shown, for: pasted), "only codex has one")
    }

    @Test("runtimes whose input box was never captured have no shape: send refuses rather than guess")
    func noGuessing() {
        for kind in [RuntimeKind.opencode] {
            #expect(Runtimes.of(kind).inputShapes.isEmpty, "\(kind)")
        }
    }

    @Test("Claude Code's adapter reads the real Claude Code 2.1.332's screens: empty while idle and while working, drafts of one and several rows, a collapsed paste")
    func claudeAdapter() throws {
        let claude = try Self.fixtures().filter { $0.file.hasPrefix("claude-") }
        #expect(claude.count == 7)
        for f in claude {
            let state = classify(f, runtime: .claude)
            switch f.expect {
            case "empty": #expect(state == .empty(shape: "claude"), "\(f.file): \(state)")
            // The permission dialog's `❯ 1. Yes` (column 1, the cursor on it) is no composer:
            // typing there would answer the dialog.
            case "noPrompt": #expect(state == .noPrompt, "\(f.file): \(state)")
            default: #expect(state == .draft(shape: "claude", text: String(f.expect.dropFirst("draft:".count))), "\(f.file): \(state)")
            }
        }
    }

    @Test("pi's adapter reads the real pi's screens (the pi4py fork of 1.0.3): empty, cleared, busy and after a reply; drafts of one row, wrapped and several lines, scrolled in the box, typed while busy; a collapsed paste")
    func piAdapter() throws {
        let pi = try Self.fixtures().filter { $0.file.hasPrefix("pi-") }
        #expect(pi.count == 10)
        for f in pi {
            #expect(f.runtime == .pi && f.command == "pi")
            let state = classify(f, runtime: .pi)
            switch f.expect {
            case "empty": #expect(state == .empty(shape: "pi"), "\(f.file): \(state)")
            default: #expect(state == .draft(shape: "pi", text: String(f.expect.dropFirst("draft:".count))), "\(f.file): \(state)")
            }
        }
        let adapter = Runtimes.of(.pi)
        #expect(adapter.usesAlternateScreen && adapter.acknowledgesMessages)
        #expect(InputShape.pi.clearKeys == ["C-c"], "one C-c: a second within 500 ms quits pi")
        let long = (1...32).map { "pasted line \($0)" }.joined(separator: "\n")
        #expect(InputShape.pi.showsPastePlaceholder("[paste #1 +32 lines]", for: long) && InputShape.pi.showsPastePlaceholder("[paste #2 1204 chars]", for: long))
        #expect(!InputShape.pi.showsPastePlaceholder("[paste #1 +32 lines] and more", for: long))
        let paste = try #require(pi.first { $0.file == "pi-pasted-placeholder.ansi" })
        #expect(Sender.placeholder(classify(paste, runtime: .pi), shape: .pi, wire: long))
    }

    /// A boxed screen `width` wide: `rows` as given, `rule` standing for a full-width rule.
    static func boxed(_ rows: [String], width: Int = 20) -> Screen {
        Screen.parse(rows.map { $0 == "rule" ? String(repeating: "─", count: width) : $0 }.joined(separator: "\n") + "\n")
    }

    @Test("a boxed input is the rows between the rules around the cursor; outside a box, or on a rule, there is no prompt")
    func boxedInput() {
        let reader = InputLineReader(shapes: [.pi])
        func read(_ screen: Screen, _ x: Int, _ y: Int) -> InputLineState { reader.classify(screen, cursorX: x, cursorY: y, width: 20).state }
        let box = Self.boxed(["output above", "rule", "first line", "second", "rule", "~/work"])
        #expect(read(box, 6, 3) == .draft(shape: "pi", text: "first line\nsecond"))
        #expect(read(box, 0, 0) == .noPrompt, "above the box")
        #expect(read(box, 0, 5) == .noPrompt, "below the box")
        #expect(read(box, 0, 1) == .noPrompt, "on a rule")
        #expect(read(Self.boxed(["rule", "no rule below", "footer"]), 0, 1) == .noPrompt)
        #expect(read(Self.boxed(["no rule above", "rule"]), 0, 0) == .noPrompt)
        // pi's own cursor: a reverse-video space at the end of the text, on an empty editor alone.
        #expect(read(Self.boxed(["rule", "\u{1B}[0;7m \u{1B}[0m", "rule"]), 0, 1) == .empty(shape: "pi"))
        #expect(read(Self.boxed(["rule", "half\u{1B}[7m \u{1B}[0m", "rule"]), 4, 1) == .draft(shape: "pi", text: "half"))
        #expect(read(Self.boxed(["rule", "ha\u{1B}[7ml\u{1B}[0mf", "rule"]), 2, 1) == .draft(shape: "pi", text: "half"),
                "the cursor on a character: that character is text")
        // Labels in the rules: scrolled text, and the loader while pi works.
        let scrolled = Self.boxed(["───── ↑ 3 more ─────", "row 4", "row 5", "───── ↓ 1 more ─────"])
        #expect(read(scrolled, 5, 2) == .draft(shape: "pi", text: "row 4\nrow 5"))
        #expect(read(Self.boxed(["── ⠴ Working ───────", "", "rule"]), 0, 1) == .empty(shape: "pi"))
        // A row of `─` that is not full width is typed text, not a rule (pi wraps one column short).
        let typedRule = Self.boxed(["rule", "above", String(repeating: "─", count: 19), "below", "rule"])
        #expect(read(typedRule, 5, 3) == .draft(shape: "pi", text: "above\n" + String(repeating: "─", count: 19) + "\nbelow"))
        // The rule is not anything with dashes: text inside a rule-like row is not a rule either.
        #expect(!InputShape.pi.isBoxRule(Self.boxed(["────a─b──c──────────"]).rows[0], width: 20))
        // A shape with no box rule never sees one.
        #expect(!InputShape.claude.isBoxRule(Self.boxed(["rule"]).rows[0], width: 20))
    }

    @Test("Claude Code's collapsed paste stands for the message only for its shape, and only alone on the line")
    func claudePastePlaceholder() {
        let long = (0..<30).map { "line \($0)" }.joined(separator: "\n")
        let claude = InputShape.claude
        #expect(claude.showsPastePlaceholder("[Pasted text #3 +29 lines]", for: long))
        #expect(claude.showsPastePlaceholder("[Pasted text #12]", for: long))
        #expect(!TypedEcho.matches(.draft(shape: "claude", text: "[Pasted text #3 +29 lines]"), message: long), "the text itself is not the message")
        #expect(!InputShape.aider.showsPastePlaceholder("[Pasted text #3 +29 lines]", for: long))
        #expect(!claude.showsPastePlaceholder("draft [Pasted text #3 +29 lines]", for: long))
        #expect(!claude.showsPastePlaceholder("[Pasted text #3 +29 lines] and more", for: long))
        #expect(!claude.showsPastePlaceholder("[Pasted Content 1489 chars]", for: long), "codex's stand-in is not Claude's")
    }

    @Test("dim and grey suggestion text is ghost, not a draft; the typed part before it is")
    func ghostText() throws {
        let all = try Self.fixtures()
        let ghost = all.first { $0.file == "ipython-ghost.ansi" }!
        let row = Screen.parse(ghost.capture).rows[ghost.cursorY]
        #expect(row.text.hasSuffix("print(12345)"), "the screen shows the suggestion")
        #expect(row.typedText.hasSuffix("pri"), "only `pri` was typed: 38;5;241 is ghost")
        for name in ["dim-placeholder.ansi", "grey-placeholder.ansi"] {
            let f = all.first { $0.file == name }!
            #expect(classify(f).shapeName != nil && !classify(f).isDraft, "\(name): \(classify(f))")
        }
    }

    @Test("bash highlights a paste (SGR 3), which is typed text, and the echo check finds it at the cursor")
    func pastedEcho() throws {
        let f = try Self.fixtures().first { $0.file == "bash-pasted-multiline.ansi" }!
        let screen = Screen.parse(f.capture)
        #expect(TypedEcho.endsAtCursor(screen, cursorX: f.cursorX, cursorY: f.cursorY, message: "echo one\necho two"))
        #expect(!TypedEcho.endsAtCursor(screen, cursorX: f.cursorX, cursorY: f.cursorY, message: "echo one\necho three"))
        #expect(!TypedEcho.endsAtCursor(screen, cursorX: 0, cursorY: f.cursorY + 1, message: "echo one\necho two"),
                "after Enter the cursor sits on an empty row: the text is no longer at the cursor")
    }

    @Test("a classified input matches the message only when it is exactly the message")
    func matches() {
        #expect(TypedEcho.matches(.draft(shape: "stub", text: "[mosaic msg=a from=b] hi there"), message: "[mosaic msg=a from=b] hi there"))
        #expect(TypedEcho.matches(.draft(shape: "stub", text: "^[[200~line one\nline two^[[201~"), message: "line one\nline two"))
        #expect(!TypedEcho.matches(.draft(shape: "stub", text: "oops[mosaic msg=a from=b] hi"), message: "[mosaic msg=a from=b] hi"))
        #expect(!TypedEcho.matches(.empty(shape: "stub"), message: "x"))
    }

    @Test("SGR parsing: dim, 256-colour greys, RGB greys are ghost; colours, bold, italic are not")
    func sgr() {
        let screen = Screen.parse("a\u{1B}[2mb\u{1B}[22mc\u{1B}[90md\u{1B}[39m\u{1B}[38;5;244me\u{1B}[38;2;100;100;100mf\u{1B}[38;2;200;40;40mg\u{1B}[0m\u{1B}[1;3mh\n")
        let ghosts = screen.rows[0].cells.map { $0.ghost }
        #expect(screen.rows[0].text == "abcdefgh")
        #expect(ghosts == [false, true, false, true, true, true, false, false])
        #expect(screen.rows.count == 1)
    }
}

extension InputLineState {
    var shapeName: String? {
        switch self {
        case .empty(let s), .draft(let s, _): return s
        case .noPrompt: return nil
        }
    }
}
