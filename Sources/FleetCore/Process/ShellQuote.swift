import Foundation

/// POSIX single-quote quoting, for the rare places a command line must be one string
/// (a tmux pane command, a unit's ExecStart). Never used to build argv for our own calls.
public enum ShellQuote {
    public static func quote(_ word: String) -> String {
        if !word.isEmpty, word.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "@%_+=:,./-".unicodeScalars.contains($0)) }) {
            return word
        }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func join(_ words: [String]) -> String { words.map(quote).joined(separator: " ") }
}
