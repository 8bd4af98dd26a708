import Foundation

/// A plain-text table that fits the terminal: columns marked `shrinkable` give way first.
public struct Table: Sendable {
    public struct Column: Sendable {
        public var title: String
        public var shrinkable: Bool
        public init(_ title: String, shrinkable: Bool = false) {
            self.title = title
            self.shrinkable = shrinkable
        }
    }

    /// A cell's text and an optional ANSI colour code, used only when colour is on.
    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        public var color: String?
        public init(_ text: String, color: String? = nil) {
            self.text = text
            self.color = color
        }
        public init(stringLiteral value: String) { self.init(value) }
    }

    public var columns: [Column]
    public var rows: [[Cell]]

    public init(columns: [Column], rows: [[Cell]]) {
        self.columns = columns
        self.rows = rows
    }

    public func rendered(width: Int?, color: Bool) -> String {
        var widths = columns.indices.map { i in
            rows.reduce(columns[i].title.count) { max($0, $1[i].text.count) }
        }
        if let width {
            var overflow = widths.reduce(0, +) + 2 * (columns.count - 1) - width
            for i in columns.indices.reversed() where overflow > 0 && columns[i].shrinkable {
                let cut = min(overflow, widths[i] - max(8, columns[i].title.count))
                if cut > 0 { widths[i] -= cut; overflow -= cut }
            }
        }
        func fit(_ text: String, _ w: Int) -> String {
            text.count <= w ? text + String(repeating: " ", count: w - text.count) : String(text.prefix(max(0, w - 1))) + "…"
        }
        var lines = [columns.indices.map { fit(columns[$0].title, widths[$0]) }.joined(separator: "  ")]
        for row in rows {
            lines.append(columns.indices.map { i in
                let text = fit(row[i].text, widths[i])
                guard color, let code = row[i].color else { return text }
                return "\u{1B}[\(code)m\(text)\u{1B}[0m"
            }.joined(separator: "  "))
        }
        return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
            .joined(separator: "\n") + "\n"
    }
}
