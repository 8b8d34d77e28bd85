import TenkenBase

/// What dpkg refuses in a status file, checked as dpkg checks it (lib/dpkg parseversion,
/// the Status words, the relationship fields): a stanza dpkg would refuse to read is damage,
/// never silently taken. What dpkg only warns about (a version not starting with a digit, `>`
/// for `>=`) is accepted, as dpkg accepts it.
enum ControlFieldSyntax {
    static let wants: Set<Substring> = ["unknown", "install", "hold", "deinstall", "purge"]
    static let flags: Set<Substring> = ["ok", "reinstreq"]
    static let states: Set<Substring> = [
        "not-installed", "config-files", "half-installed", "unpacked", "half-configured", "triggers-awaited",
        "triggers-pending", "installed",
    ]

    /// Why dpkg refuses a stanza's version, in its words; nil when it takes it (no copy in the common case).
    static func versionError(_ version: String) -> String? {
        var copy = version
        return copy.withUTF8 { bytes in
            // Fast path: digits, dots, "+~" and letters with no colon or hyphen cannot be refused.
            if !bytes.isEmpty, !bytes.contains(where: { $0 == 0x3A || $0 == 0x2D || $0 == 0x20 || $0 == 0x09 }) {
                return nil
            }
            return versionError(Array(bytes)[...])
        }
    }

    /// The same on the version's bytes (no copy: the status parser checks every stanza's).
    static func versionError(_ version: ArraySlice<UInt8>) -> String? {
        if version.isEmpty { return "version string is empty" }
        if version.contains(where: { $0 == 0x20 || $0 == 0x09 }) { return "version string has embedded spaces" }
        var rest = version
        if let colon = version.firstIndex(of: 0x3A) {
            // As strtol reads it: an optional sign, then digits (leading zeros and all).
            var epoch = version[..<colon]
            let negative = epoch.first == 0x2D
            if epoch.first == 0x2B || negative { epoch = epoch.dropFirst() }
            guard let first = epoch.first, isDigit(first) else { return "epoch in version is empty" }
            guard epoch.allSatisfy(isDigit) else { return "epoch in version is not number" }
            var value = 0
            for digit in epoch where value <= Int(Int32.max) { value = value * 10 + Int(digit - 0x30) }
            if negative && value > 0 { return "epoch in version is negative" }
            if value > Int(Int32.max) { return "epoch in version is too big" }
            rest = version[(colon + 1)...]
            if rest.isEmpty { return "nothing after colon in version number" }
        }
        if let hyphen = rest.lastIndex(of: 0x2D) {
            if hyphen + 1 == rest.endIndex { return "revision number is empty" }
            if hyphen == rest.startIndex { return "version number is empty" }
        }
        return nil
    }

    /// Words separated by runs of spaces and tabs, counted without splitting.
    static func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for byte in text.utf8 {
            let space = byte == 0x20 || byte == 0x09
            if !space && !inWord { count += 1 }
            inWord = !space
        }
        return count
    }

    /// Why dpkg refuses the Status field ("want flag status").
    static func statusError(_ status: String) -> String? {
        if status == "install ok installed" || status == "deinstall ok config-files" { return nil }
        // dpkg reads the words case-insensitively, separated by any run of spaces.
        let words = status.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count <= 3 else { return "third (status) word in 'Status' field: has trailing junk" }
        guard words.count == 3 else { return "'Status' field must have three words" }
        if !wants.contains(words[0]) { return "first (want) word in 'Status' field: has invalid value '\(words[0])'" }
        if !flags.contains(words[1]) { return "second (error) word in 'Status' field: has invalid value '\(words[1])'" }
        if !states.contains(words[2]) {
            return "third (status) word in 'Status' field: has invalid value '\(words[2])'"
        }
        return nil
    }

    /// Whether a field name (any case) is a relationship field; only those may list `|`
    /// alternatives when `alternatives`. Compares bytes: the parser asks for every field.
    static func relationField(_ field: ArraySlice<UInt8>) -> (name: String, alternatives: Bool)? {
        // Most fields are not relationships: their length and first letter say so without a loop.
        guard (6...11).contains(field.count), let first = field.first else { return nil }
        switch first | 0x20 {
        case 0x62, 0x63, 0x64, 0x65, 0x70, 0x72, 0x73: break  // b c d e p r s
        default: return nil
        }
        for (name, alternatives) in relationNames where name.utf8.count == field.count {
            if zip(field, name.utf8).allSatisfy({ $0 | 0x20 == $1 }) { return (name, alternatives) }
        }
        return nil
    }

    private static let relationNames: [(String, Bool)] = [
        ("depends", true), ("pre-depends", true), ("recommends", true), ("suggests", true), ("enhances", true),
        ("breaks", false), ("conflicts", false), ("replaces", false), ("provides", false),
    ]

    /// Why dpkg refuses a relationship field's value ("a (>= 1), b | c:any"), read as dpkg reads
    /// it (lib/dpkg/fields.c); nil when it takes it. An empty field is ignored, as dpkg ignores it.
    static func relationError(_ value: ArraySlice<UInt8>, field: String, alternatives: Bool) -> String? {
        var scanner = RelationScanner(bytes: value)
        scanner.skipSpace()
        if scanner.atEnd { return nil }
        while true {
            // One item: alternatives separated by "|".
            while true {
                scanner.skipSpace()
                let name = scanner.word(.name)
                guard let first = name.first else {
                    return "missing package name, or garbage where package name expected"
                }
                if !isAlphanumeric(first) {
                    return "invalid package name '\(text(name))': must start with an alphanumeric character"
                }
                if let bad = name.first(where: {
                    !isAlphanumeric($0) && $0 != 0x2D && $0 != 0x2B && $0 != 0x2E && $0 != 0x5F
                }) {
                    return "invalid package name '\(text(name))': character '\(text([bad][...]))' not allowed"
                }
                if scanner.take(0x3A) {
                    let architecture = scanner.word(.architecture)
                    guard let head = architecture.first else {
                        return "missing architecture name, or garbage where architecture name expected"
                    }
                    if !isAlphanumeric(head) || architecture.contains(where: { !isAlphanumeric($0) && $0 != 0x2D }) {
                        return "invalid architecture name '\(text(architecture))'"
                    }
                }
                scanner.skipSpace()
                if scanner.take(0x28) {
                    scanner.skipSpace()
                    // "<<", "<=", "=", ">=", ">>", the obsolete "<" and ">", or none (an exact match).
                    if let first = scanner.peek, first == 0x3C || first == 0x3E {
                        scanner.index += 1
                        if !scanner.take(first) && !scanner.take(0x3D), let next = scanner.peek,
                            next == 0x3C || next == 0x3E
                        {
                            return "reference to '\(text(name))': bad version relationship"
                        }
                    } else {
                        _ = scanner.take(0x3D)
                    }
                    scanner.skipSpace()
                    let version = scanner.word(.version)
                    scanner.skipSpace()
                    guard let close = scanner.peek else {
                        return "reference to '\(text(name))': missing closing parenthesis"
                    }
                    guard close == 0x29 else {
                        return "reference to '\(text(name))': version contains '\(text([close][...]))' instead of ')'"
                    }
                    scanner.index += 1
                    if let error = versionError(version) {
                        return "reference to '\(text(name))': version '\(text(version))': \(error)"
                    }
                    scanner.skipSpace()
                }
                guard scanner.take(0x7C) else { break }
                if !alternatives { return "alternatives ('|') not allowed in '\(field)' field" }
            }
            if scanner.atEnd { return nil }
            guard scanner.take(0x2C) else { return "syntax error after a package reference" }
        }
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String { ByteText.display(bytes) }

    /// A cursor over a relationship field's bytes.
    private struct RelationScanner {
        let bytes: ArraySlice<UInt8>
        var index: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            index = bytes.startIndex
        }

        var atEnd: Bool { index >= bytes.endIndex }
        var peek: UInt8? { index < bytes.endIndex ? bytes[index] : nil }

        /// dpkg's isspace: space, tab, newline, vertical tab, form feed, carriage return.
        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

        mutating func skipSpace() {
            while index < bytes.endIndex && Self.isSpace(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.endIndex, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// What a word is read as, which decides where it ends (as dpkg ends it).
        enum Word {
            /// Up to a space, ":", "(", "," or "|".
            case name
            /// Up to a space, "(", "," or "|".
            case architecture
            /// Up to a space, "(" or ")": commas and bars are part of it.
            case version
        }

        mutating func word(_ kind: Word) -> ArraySlice<UInt8> {
            let start = index
            while index < bytes.endIndex {
                let byte = bytes[index]
                if Self.isSpace(byte) || byte == 0x28 { break }
                switch kind {
                case .name: if byte == 0x3A || byte == 0x2C || byte == 0x7C { return bytes[start..<index] }
                case .architecture: if byte == 0x2C || byte == 0x7C { return bytes[start..<index] }
                case .version: if byte == 0x29 { return bytes[start..<index] }
                }
                index += 1
            }
            return bytes[start..<index]
        }
    }

    /// Why dpkg refuses a package name (pkg_name_is_illegal), or nil: it starts with a letter or
    /// digit and holds only those and "-+._".
    static func packageNameError(_ name: String) -> String? {
        guard let first = name.utf8.first else { return "may not be empty string" }
        guard isAlphanumeric(first) else { return "must start with an alphanumeric character" }
        if let bad = name.unicodeScalars.first(where: {
            !($0.isASCII && (isAlphanumeric(UInt8($0.value)) || "-+._".unicodeScalars.contains($0)))
        }) {
            return "character '\(bad)' not allowed (only letters, digits and characters '-+._')"
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// A byte a package name may hold: letters, digits and -+._.
    static func isNameByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == 0x2D || byte == 0x2B || byte == 0x2E || byte == 0x5F
    }
}
