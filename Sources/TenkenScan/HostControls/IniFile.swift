/// A keyfile/INI file: "[section]" then "key=value"; "#" and ";" comment lines.
struct IniFile {
    private var values: [String: String] = [:]

    init(_ text: String) {
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: " \t")
            values[section + "\u{0}" + key] = line[line.index(after: equals)...].trimmingCharacters(in: " \t")
        }
    }

    subscript(section: String, key: String) -> String? { values[section + "\u{0}" + key] }
}
