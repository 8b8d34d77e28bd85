import TenkenBase

/// What dpkg refuses in a status file, checked as dpkg checks it (lib/dpkg parseversion,
/// the Status words, the relationship fields): a stanza dpkg would refuse to read is damage,
/// never silently taken. What dpkg only warns about (a version not starting with a digit, `>`
/// for `>=`) is accepted, as dpkg accepts it.
enum ControlFieldSyntax {
    /// Fields holding package relationships.
    static let relationFields: Set<String> = [
        "depends", "pre-depends", "recommends", "suggests", "enhances", "breaks", "conflicts", "replaces", "provides",
    ]
    /// Only these may list alternatives with `|`.
    static let alternativeFields: Set<String> = ["depends", "pre-depends", "recommends", "suggests", "enhances"]

    static let wants: Set<Substring> = ["unknown", "install", "hold", "deinstall", "purge"]
    static let flags: Set<Substring> = ["ok", "reinstreq"]
    static let states: Set<Substring> = [
        "not-installed", "config-files", "half-installed", "unpacked", "half-configured", "triggers-awaited",
        "triggers-pending", "installed",
    ]

    /// Why dpkg refuses the version, in its words; nil when it takes it.
    static func versionError(_ version: Substring) -> String? {
        if version.isEmpty { return "version string is empty" }
        if version.contains(where: { $0 == " " || $0 == "\t" }) { return "version string has embedded spaces" }
        var rest = version
        if let colon = version.firstIndex(of: ":") {
            let epoch = version[..<colon]
            guard let first = epoch.first, first.isASCII, first.isNumber else { return "epoch in version is empty" }
            guard epoch.allSatisfy({ $0.isASCII && $0.isNumber }) else { return "epoch in version is not number" }
            guard let value = Int(epoch), value <= Int(Int32.max) else { return "epoch in version is too big" }
            rest = version[version.index(after: colon)...]
            if rest.isEmpty { return "nothing after colon in version number" }
        }
        if let hyphen = rest.lastIndex(of: "-") {
            if rest[rest.index(after: hyphen)...].isEmpty { return "revision number is empty" }
            if rest[..<hyphen].isEmpty { return "version number is empty" }
        }
        return nil
    }

    /// Why dpkg refuses the Status field ("want flag status").
    static func statusError(_ status: String) -> String? {
        let words = status.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count <= 3 else { return "third (status) word in 'Status' field: has trailing junk" }
        guard words.count == 3 else { return "'Status' field must have three words" }
        if !wants.contains(words[0]) { return "first (want) word in 'Status' field: has invalid value '\(words[0])'" }
        if !flags.contains(words[1]) { return "second (error) word in 'Status' field: has invalid value '\(words[1])'" }
        if !states.contains(words[2]) {
            return "third (status) word in 'Status' field: has invalid value '\(words[2])'"
        }
        return nil
    }

    /// Why dpkg refuses a relationship field's value ("a (>= 1), b | c:any"); `field` lowercased.
    static func relationError(field: String, _ value: String) -> String? {
        let text = Array(value.unicodeScalars)
        var index = 0
        func skipSpace() { while index < text.count && (text[index] == " " || text[index] == "\t") { index += 1 } }
        func word(until stops: Set<Unicode.Scalar>) -> String {
            var result = String.UnicodeScalarView()
            while index < text.count && !stops.contains(text[index]) && text[index] != " " && text[index] != "\t" {
                result.append(text[index])
                index += 1
            }
            return String(result)
        }
        while true {
            // One item: alternatives separated by "|".
            while true {
                skipSpace()
                let name = word(until: [":", "(", ",", "|"])
                if name.isEmpty { return "missing package name, or garbage where package name expected" }
                if let first = name.unicodeScalars.first, !isAlphanumeric(first) {
                    return "invalid package name '\(name)': must start with an alphanumeric character"
                }
                if let bad = name.unicodeScalars.first(where: {
                    !$0.isASCII || !(isAlphanumeric($0) || "-+._".unicodeScalars.contains($0))
                }) {
                    return "invalid package name '\(name)': character '\(bad)' not allowed"
                }
                if index < text.count && text[index] == ":" {
                    index += 1
                    let architecture = word(until: ["(", ",", "|"])
                    if architecture.isEmpty {
                        return "missing architecture name, or garbage where architecture name expected"
                    }
                    if let bad = architecture.unicodeScalars.first(where: { !isAlphanumeric($0) && $0 != "-" }) {
                        return "invalid architecture name '\(architecture)': character '\(bad)' not allowed"
                    }
                }
                skipSpace()
                if index < text.count && text[index] == "(" {
                    index += 1
                    skipSpace()
                    // "<<", "<=", "=", ">=", ">>", the obsolete "<" and ">", or none (an exact match).
                    if index < text.count && (text[index] == "<" || text[index] == ">") {
                        let first = text[index]
                        index += 1
                        if index < text.count && (text[index] == first || text[index] == "=") { index += 1 }
                    } else if index < text.count && text[index] == "=" {
                        index += 1
                    }
                    skipSpace()
                    let version = word(until: [")"])
                    skipSpace()
                    guard index < text.count else { return "reference to '\(name)': missing closing parenthesis" }
                    guard text[index] == ")" else {
                        return "reference to '\(name)': version contains '\(text[index])' instead of ')'"
                    }
                    index += 1
                    if let error = versionError(Substring(version)) {
                        return "reference to '\(name)': version '\(version)': \(error)"
                    }
                    skipSpace()
                }
                guard index < text.count, text[index] == "|" else { break }
                if !alternativeFields.contains(field) { return "alternatives ('|') not allowed in '\(field)' field" }
                index += 1
            }
            guard index < text.count else { return nil }
            guard text[index] == "," else { return "syntax error after a package reference" }
            index += 1
        }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
