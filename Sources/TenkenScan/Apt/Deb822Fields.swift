/// Reads "Field: value" lines of one deb822 paragraph (a Release header, a .sources entry).
/// Field names compare case-insensitively; continuation lines are joined with a space.
struct Deb822Fields {
    private(set) var values: [String: String] = [:]

    init(_ lines: [Substring]) {
        var last: String?
        for line in lines {
            if line.first == " " || line.first == "\t" {
                if let key = last { values[key, default: ""] += " " + line.trimmingCharacters(in: " \t") }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].lowercased()
            values[key] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t\r")
            last = key
        }
    }

    subscript(_ field: String) -> String? { values[field.lowercased()] }

    /// Splits text into paragraphs (blank-line separated), skipping comment lines.
    static func paragraphs(_ text: String) -> [Deb822Fields] {
        var result: [Deb822Fields] = []
        var current: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: " \t\r").isEmpty {
                if !current.isEmpty { result.append(Deb822Fields(current)) }
                current = []
            } else if !line.hasPrefix("#") {
                current.append(line)
            }
        }
        if !current.isEmpty { result.append(Deb822Fields(current)) }
        return result
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
