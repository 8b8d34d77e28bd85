/// apt.conf(5) values as apt resolves them: /etc/apt/apt.conf.d/* in name order, then
/// /etc/apt/apt.conf, later settings winning. Understands "A::B "v";", nested "A { B "v"; };"
/// scopes and //, # and /* */ comments; that is all a setting like APT::Periodic needs.
struct AptConfig {
    private(set) var values: [String: (value: String, file: String)] = [:]
    /// Files that exist but could not be read: their settings are unknown.
    private(set) var issues: [FactIssue] = []

    init(_ root: HostRoot) {
        var entries: [Directory.Entry] = []
        do {
            entries = try root.directoryIfPresent("/etc/apt/apt.conf.d")?.entries() ?? []
        } catch {
            issues.append(.unreadable(.apt, error, about: .updateSettings))
        }
        // apt reads names of ASCII letters, digits, "_", "-" and "." with no extension or
        // ".conf": "20auto-upgrades.orig" and "x.dpkg-old" are ignored.
        let names = entries.map(\.name.display).filter { name in
            name.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0))
            }
                && (!name.contains(".") || name.hasSuffix(".conf"))
        }.sorted()
        for name in names { read(root, "/etc/apt/apt.conf.d/" + name) }
        read(root, "/etc/apt/apt.conf")
    }

    subscript(_ key: String) -> (value: String, file: String)? { values[key.lowercased()] }

    private mutating func read(_ root: HostRoot, _ path: String) {
        let bytes: [UInt8]
        do {
            guard let present = try root.readFileIfPresent(path, limit: 1 << 20) else { return }
            bytes = present
        } catch {
            issues.append(.unreadable(.apt, error, about: .updateSettings))
            return
        }
        var scope: [String] = []
        var pending: [String] = []  // words of the statement so far
        for token in Self.tokens(String(decoding: bytes, as: UTF8.self)) {
            switch token {
            case "{":
                if let key = pending.first { scope.append(key) }
                pending = []
            case "}":
                if !scope.isEmpty { scope.removeLast() }
                pending = []
            case ";":
                if pending.count >= 2 {
                    let key = (scope + [pending[0]]).joined(separator: "::").lowercased()
                    values[key] = (pending[1], path)
                }
                pending = []
            default:
                pending.append(token)
            }
        }
    }

    /// Words, quoted strings (unquoted) and the punctuation { } ;, comments removed.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        let characters = Array(text)
        var index = 0
        var word = ""
        func flush() {
            if !word.isEmpty {
                tokens.append(word)
                word = ""
            }
        }
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            if character == "/" && next == "/" || character == "#" {
                flush()
                while index < characters.count && characters[index] != "\n" { index += 1 }
            } else if character == "/" && next == "*" {
                flush()
                index += 2
                while index + 1 < characters.count && !(characters[index] == "*" && characters[index + 1] == "/") {
                    index += 1
                }
                index += 2
                continue
            } else if character == "\"" {
                flush()
                index += 1
                var value = ""
                while index < characters.count && characters[index] != "\"" {
                    value.append(characters[index])
                    index += 1
                }
                tokens.append(value)
            } else if "{};".contains(character) {
                flush()
                tokens.append(String(character))
            } else if character.isWhitespace {
                flush()
            } else {
                word.append(character)
            }
            index += 1
        }
        flush()
        return tokens
    }
}
