import TenkenBase

/// The archives configured in sources.list, sources.list.d/*.list and *.sources, as the prefixes
/// of their files in /var/lib/apt/lists. apt reads only lists of configured sources, so lists
/// left behind by a removed source must not count either.
enum AptSources {
    /// The prefixes, or nil when no sources file exists; unreadable files are added to `issues`.
    static func listPrefixes(_ root: HostRoot, issues: inout [FactIssue]) -> [String]? {
        entries(root, issues: &issues, source: .apt, about: .packageLists)?.map {
            listPrefix(uri: $0.uri, suite: $0.suite)
        }
    }

    /// The enabled `deb` entries of every sources file, or nil when no sources file exists;
    /// unreadable files are issues of `source`.
    static func entries(
        _ root: HostRoot, issues: inout [FactIssue], source: FactSource, about part: FactPart?
    ) -> [(uri: String, suite: String)]? {
        var entries: [(uri: String, suite: String)] = []
        var found = false
        func read(_ path: String) -> String? {
            do {
                guard let bytes = try root.readFileIfPresent(path, limit: 16 << 20) else { return nil }
                return String(decoding: bytes, as: UTF8.self)
            } catch {
                issues.append(.unreadable(source, error, about: part))
                return nil
            }
        }
        if let text = read("/etc/apt/sources.list") {
            found = true
            entries += oneLine(text)
        }
        var files: [Directory.Entry] = []
        do {
            files = try root.directoryIfPresent("/etc/apt/sources.list.d")?.entries() ?? []
        } catch {
            // The lists of the sources it holds would be ignored as left behind: pending updates unknown.
            issues.append(.unreadable(source, error, about: part))
        }
        for file in files.sorted(by: { $0.name.display < $1.name.display }) {
            let name = file.name.display
            guard name.hasSuffix(".list") || name.hasSuffix(".sources"),
                let text = read("/etc/apt/sources.list.d/" + name)
            else { continue }
            if name.hasSuffix(".list") {
                found = true
                entries += oneLine(text)
            }
            if name.hasSuffix(".sources") {
                found = true
                entries += deb822(text)
            }
        }
        guard found else { return nil }
        return entries
    }

    /// "deb [arch=amd64 signed-by=...] http://deb.debian.org/debian bookworm main"
    static func oneLine(_ text: String) -> [(uri: String, suite: String)] {
        var result: [(String, String)] = []
        for line in text.split(separator: "\n") {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.first == "deb" else { continue }
            words.removeFirst()
            if words.first?.hasPrefix("[") == true {
                while let word = words.first, !word.hasSuffix("]") { words.removeFirst() }
                if !words.isEmpty { words.removeFirst() }
            }
            if words.count >= 2 { result.append((words[0], words[1])) }
        }
        return result
    }

    static func deb822(_ text: String) -> [(uri: String, suite: String)] {
        var result: [(String, String)] = []
        for fields in Deb822Fields.paragraphs(text) {
            guard (fields["Types"] ?? "").split(separator: " ").contains("deb"),
                (fields["Enabled"] ?? "yes").lowercased() != "no"
            else { continue }
            for uri in (fields["URIs"] ?? "").split(separator: " ") {
                for suite in (fields["Suites"] ?? "").split(separator: " ") {
                    result.append((String(uri), String(suite)))
                }
            }
        }
        return result
    }

    /// apt's URItoFileName: no scheme or credentials, "_" quoted, "/" turned into "_".
    static func listPrefix(uri: String, suite: String) -> String {
        var location = uri
        if let scheme = location.firstRange(of: "://") { location = String(location[scheme.upperBound...]) }
        if let at = location.firstIndex(of: "@"), !location[..<at].contains("/") {
            location = String(location[location.index(after: at)...])
        }
        while location.hasSuffix("/") { location.removeLast() }
        // apt's QuoteString(uri, "\\|{}[]<>\"^~_=!@#$%^&*"), then "/" → "_".
        func quote(_ text: String) -> String {
            var quoted = ""
            for byte in text.utf8 {
                if byte <= 0x20 || byte >= 0x7F || "\\|{}[]<>\"^~_=!@#$%&*".utf8.contains(byte) {
                    quoted += "%" + ByteText.hex(byte)
                } else {
                    quoted += byte == 0x2F ? "_" : String(UnicodeScalar(byte))
                }
            }
            return quoted
        }
        if suite.hasSuffix("/") {  // a flat repository: the suite is a path
            let path = suite == "./" ? "" : "_" + quote(String(suite.dropLast()))
            return quote(location) + path + "_"
        }
        return quote(location) + "_dists_" + quote(suite) + "_"
    }

}
