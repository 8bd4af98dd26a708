import Foundation

/// Quoting for values written into unit files, which systemd parses with its own rules, not a
/// shell's: `%` starts a specifier everywhere, `$` expands in Exec lines, and a quoted word takes
/// C escapes (measured on systemd 252: `"a %%b $$c \"d\" \\e"` runs as `a %b $c "d" \e`).
public enum UnitQuote {
    /// One argv word of an `ExecStart=`-style line.
    public static func execWord(_ word: String) -> String {
        if isPlain(word) { return word }
        return "\"" + escaped(word).replacingOccurrences(of: "$", with: "$$") + "\""
    }

    /// An argv as one Exec line.
    public static func execLine(_ argv: [String]) -> String { argv.map(execWord).joined(separator: " ") }

    /// One `Environment=` assignment (there `$` is literal, `%` is still a specifier).
    public static func environment(_ key: String, _ value: String) -> String {
        "\"\(key)=\(escaped(value))\""
    }

    /// A path after a directive that takes the rest of the line (`EnvironmentFile=`): no
    /// quotes are removed there, only specifiers expand.
    public static func path(_ path: String) -> String { path.replacingOccurrences(of: "%", with: "%%") }

    /// One `KEY="value"` line of an `EnvironmentFile=`: double quotes, with a backslash before
    /// backslash, double quote, dollar and backtick; no specifiers there (measured: `%` and `'`
    /// stay literal).
    public static func environmentFileLine(_ key: String, _ value: String) -> String {
        var out = ""
        for ch in value {
            if "\\\"$`".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return "\(key)=\"\(out)\""
    }

    static func isPlain(_ word: String) -> Bool {
        !word.isEmpty && word.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_+=:,./-@".unicodeScalars.contains($0))
        }
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "%": out += "%%"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.append(ch)
            }
        }
        return out
    }
}
