import Foundation

/// What a runtime's input line looks like on screen, and how its line editor takes text:
/// the knowledge `agent send` needs to tell an empty prompt from an operator's draft.
public struct InputShape: Sendable {
    /// Who edits the line: this decides which keys clear it and what a long or multi-line message does.
    public enum Editor: String, Sendable {
        /// The kernel's canonical mode (a plain `read`/`input()`): at most 4095 bytes per line, C-u kills the line.
        case lineDiscipline
        /// GNU readline (bash, the Python REPL): bracketed paste on since readline 8.1.
        case readline
        /// prompt_toolkit (ipython, aider): a multi-line buffer; Enter may add a line instead of submitting.
        case promptToolkit
        /// A full-screen program's own composer (Claude Code, Codex, pi): a multi-line buffer it
        /// draws and wraps itself, continuation rows indented (or, in a box, every row); Enter
        /// submits, a bracketed paste stays one message and keeps its newlines.
        case composer

        /// The buffer spans rows that start with the shape's continuation prefix (lines and wraps).
        public var continuesOnRows: Bool { self == .promptToolkit || self == .composer }
    }

    public var name: String
    /// Anchored pattern for the prompt at the start of the input row. Captures trail-trimmed rows
    /// (an empty prompt `stub> ` shows as `stub>`), so patterns end in an optional space.
    /// In a boxed shape: the prefix of the box's first row (pi: none, `""`).
    public var prompt: String
    /// Anchored pattern for the prefix of a continuation row (ipython's `   ...: `). In a boxed
    /// shape: the prefix of the box's later rows, where there is one (pi: none, `nil`).
    public var continuation: String?
    /// Whole-row pattern of the rules an input box is drawn between, for a program with no prompt
    /// glyph (pi). When set, the input is every row strictly between the nearest rule above the
    /// cursor and the nearest rule below it, each row text from its first column (after `prompt`
    /// on the first row, `continuation` on later ones, if they match). A rule row must also span
    /// the pane's full width: pi wraps its text one column short (a column is kept for its
    /// cursor), so a typed row of `─` is never taken for a rule. The cursor not inside such a
    /// box (no rule above or below it within `InputLineReader.maxInputRows`, or on a rule) is no prompt.
    public var boxRule: String?
    public var editor: Editor
    /// The program marks pastes (ESC[?2004h), so a multi-line paste is one submission.
    public var bracketedPaste: Bool
    /// tmux key names that empty the input line without submitting it (`--force` on a draft).
    public var clearKeys: [String]
    /// `pane_current_command` values this shape applies to; `nil`: any (a fallback).
    public var commands: Set<String>?
    /// How long to wait after the typed text shows before pressing Enter: a program that takes
    /// fast typing for an unbracketed paste turns an Enter that follows it at once into a newline.
    public var submitPause: Duration
    /// Anchored pattern for what the program shows instead of a long paste. With a capture group,
    /// the group is the pasted text's length in Unicode scalars and must agree with the message
    /// (codex: `[Pasted Content 1489 chars]`); without one, the pattern alone is the evidence
    /// (Claude Code: `[Pasted text #2 +29 lines]`, whose count is not the message's).
    public var pastePlaceholder: String?

    let promptRegex: NSRegularExpression
    let continuationRegex: NSRegularExpression?
    let placeholderRegex: NSRegularExpression?
    let boxRuleRegex: NSRegularExpression?

    public init(name: String, prompt: String, continuation: String? = nil, editor: Editor, bracketedPaste: Bool,
                clearKeys: [String], commands: Set<String>?, submitPause: Duration = .zero, pastePlaceholder: String? = nil,
                boxRule: String? = nil) {
        self.name = name
        self.prompt = prompt
        self.continuation = continuation
        self.editor = editor
        self.bracketedPaste = bracketedPaste
        self.clearKeys = clearKeys
        self.commands = commands
        self.submitPause = submitPause
        self.pastePlaceholder = pastePlaceholder
        self.boxRule = boxRule
        // The patterns are constants of this file; a bad one is a programming error.
        promptRegex = try! NSRegularExpression(pattern: "^(?:" + prompt + ")")
        continuationRegex = continuation.map { try! NSRegularExpression(pattern: "^(?:" + $0 + ")") }
        placeholderRegex = pastePlaceholder.map { try! NSRegularExpression(pattern: "^(?:" + $0 + ")$") }
        boxRuleRegex = boxRule.map { try! NSRegularExpression(pattern: "^(?:" + $0 + ")$") }
    }

    /// Whether `row` is one of the rules a boxed input sits between: it matches `boxRule` whole
    /// and spans the pane's `width`. Always false for a shape without `boxRule`.
    public func isBoxRule(_ row: Screen.Row, width: Int) -> Bool {
        guard let regex = boxRuleRegex, row.cells.count >= width else { return false }
        let text = row.text
        return regex.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil
    }

    /// Length (in characters) of the prompt at the start of `text`, if the row starts with one.
    public func promptLength(in text: String) -> Int? { Self.match(promptRegex, text) }

    public func continuationLength(in text: String) -> Int? { continuationRegex.flatMap { Self.match($0, text) } }

    static func match(_ regex: NSRegularExpression, _ text: String) -> Int? {
        let ns = text as NSString
        guard let m = regex.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return ns.substring(with: m.range).count
    }

    /// Whether an input line holding `shown` holds `message` as the program's placeholder for a
    /// long paste (the placeholder and the message's length agree).
    public func showsPastePlaceholder(_ shown: String, for message: String) -> Bool {
        guard let placeholderRegex else { return false }
        let ns = shown as NSString
        guard let m = placeholderRegex.firstMatch(in: shown, range: NSRange(location: 0, length: ns.length)) else { return false }
        guard m.numberOfRanges > 1 else { return true }
        guard let count = Int(ns.substring(with: m.range(at: 1))) else { return false }
        return count == message.unicodeScalars.count
    }

    /// Whether this shape applies to a pane whose foreground command is `command`.
    public func applies(to command: String) -> Bool {
        guard let commands else { return true }
        return commands.contains(command) || (commands.contains("python") && command.hasPrefix("python"))
    }

    /// The longest line a line-discipline reader can take: N_TTY_BUF_SIZE (4096) less the newline.
    public static let canonicalLineLimit = 4095

    // MARK: generic shapes
    // What a custom command may run. Each runtime's own shape (InputShape.claude, .codex, …) is
    // defined in that runtime's file under Runtime/Adapters.

    /// ipython 8 (prompt_toolkit): `In [3]: `, continuation `   ...: `. C-c drops the whole buffer.
    /// tmux may name its pane command `python` (an interpreter running the ipython script).
    public static let ipython = InputShape(
        name: "ipython", prompt: "In \\[[0-9]+\\]: ?", continuation: " *\\.\\.\\.: ?", editor: .promptToolkit,
        bracketedPaste: true, clearKeys: ["C-c"], commands: ["ipython", "ipython3", "python"])

    /// POSIX shells: the prompt ends at the first `$`, `#` or `%` followed by a space (or the row's end).
    public static let shell = InputShape(
        name: "shell", prompt: "[^\\s$#%]{0,80}(?: [^\\s$#%]{1,80}){0,3}[$#%](?: |$)", continuation: "> ?", editor: .readline,
        bracketedPaste: true, clearKeys: ["C-e", "C-u"], commands: ["bash", "sh", "dash", "zsh", "ksh", "mksh", "busybox"])

    /// The Python REPL (readline), `>>> ` and `... `.
    public static let pythonREPL = InputShape(
        name: "python-repl", prompt: "(?:>>>|\\.\\.\\.)(?: |$)", editor: .readline, bracketedPaste: true,
        clearKeys: ["C-e", "C-u"], commands: ["python"])

    /// A line-reading program with a short prompt ending in `>`, `:`, `?`, `»`, `❯` or `›`
    /// (Python's `input("> ")`, a `read -p`): the kernel edits the line; no bracketed paste.
    public static let linePrompt = InputShape(
        name: "line-prompt", prompt: "[^\\s]{0,24}[>:?»❯›](?: |$)", editor: .lineDiscipline, bracketedPaste: false,
        clearKeys: ["C-u"], commands: nil)
}
