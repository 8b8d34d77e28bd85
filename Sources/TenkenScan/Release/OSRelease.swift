/// os-release(5): KEY=value lines, values optionally quoted, with shell escapes in double quotes.
struct OSRelease {
    let fields: [String: String]

    init(_ text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let line = line.trimmingCharacters(in: " \t\r")
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            var value = Substring(line[line.index(after: equals)...])
            if let quote = value.first, quote == "\"" || quote == "'", value.count >= 2, value.last == quote {
                value = value.dropFirst().dropLast()
                if quote == "\"" { value = Substring(Self.unescaped(value)) }
            }
            fields[key] = String(value)
        }
        self.fields = fields
    }

    subscript(_ key: String) -> String? { fields[key].flatMap { $0.isEmpty ? nil : $0 } }

    /// ID_LIKE's words, and ID.
    var family: [String] { (self["ID_LIKE"] ?? "").split(separator: " ").map(String.init) + [self["ID"] ?? ""] }

    private static func unescaped(_ text: Substring) -> String {
        var result = ""
        var escaping = false
        for character in text {
            if escaping || character != "\\" {
                result.append(character)
                escaping = false
            } else {
                escaping = true
            }
        }
        return result
    }
}
