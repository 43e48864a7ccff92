/// Helpers for writing HTML and SVG by hand.
public enum HTML {
    /// Text or attribute value → markup-safe text (`&`, `<`, `>`, both quotes).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A table with a header row; cells are escaped here.
    static func table(_ header: [String], _ rows: [[String]], numericFrom: Int = 1) -> String {
        func cells(_ row: [String], _ tag: String) -> String {
            row.enumerated().map { i, v in
                let cls = i >= numericFrom ? #" class="num""# : ""
                return "<\(tag)\(cls)>\(escape(v))</\(tag)>"
            }.joined()
        }
        return "<table>\n<tr>\(cells(header, "th"))</tr>\n"
            + rows.map { "<tr>\(cells($0, "td"))</tr>" }.joined(separator: "\n") + "\n</table>"
    }
}
