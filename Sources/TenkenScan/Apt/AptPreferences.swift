import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// apt_preferences(5): the pins of /etc/apt/preferences and /etc/apt/preferences.d, and
/// APT::Default-Release, as apt applies them to a version's priority. The first specific record
/// (one naming packages) whose pin matches a version decides its priority; failing that, the
/// highest of the general records (`Package: *`) that match it; failing that, the default of
/// the lists it is in (990 for the default release).
struct AptPreferences: Sendable {
    /// One record: which packages, which versions, what priority.
    struct Record: Sendable {
        /// Names, globs or /regexes/; nil for `Package: *`.
        let packages: [String]?
        let pin: Pin
        let priority: Int
    }

    enum Pin: Sendable {
        /// `Pin: version 1.2*`.
        case version(String)
        /// `Pin: release a=bookworm-backports, c=main`: each key must match the list's release.
        case release([(key: String, value: String)])
        /// `Pin: origin deb.debian.org`: the host the list came from ("" for local files).
        case origin(String)
    }

    /// Where a version is offered, as pins look at it.
    struct Place: Sendable {
        let release: AptRelease
        /// The host of the list's URI, and the component of the list ("main").
        let host: String
        let component: String

        /// From the list's file name, as apt makes it from the URI:
        /// "deb.debian.org_debian_dists_bookworm-updates_main_binary-amd64_Packages".
        init(release: AptRelease, list: String) {
            self.release = release
            let name = list.split(separator: "/").last.map(String.init) ?? list
            host = String(name.prefix { $0 != "_" })
            var parts = name.split(separator: "_")
            if parts.last?.hasPrefix("Packages") == true { parts.removeLast() }
            if parts.last?.hasPrefix("binary-") == true { parts.removeLast() }
            component = parts.count >= 2 && name.contains("_dists_") ? String(parts.last!) : ""
        }
    }

    private(set) var records: [Record] = []
    /// APT::Default-Release: the release (suite or codename) whose versions get 990.
    var defaultRelease: String?
    private(set) var issues: [FactIssue] = []

    init() {}

    init(_ root: HostRoot, defaultRelease: String?) {
        self.defaultRelease = defaultRelease.flatMap { $0.isEmpty ? nil : $0 }
        read(root, "/etc/apt/preferences")
        var names: [String] = []
        do {
            names = try root.directoryIfPresent("/etc/apt/preferences.d")?.entries().map(\.name.display) ?? []
        } catch {
            issues.append(.unreadable(.apt, error, about: .packageLists))
        }
        // As apt: names of ASCII letters, digits, "_", "-" and "." with no extension or ".pref".
        let read = names.filter { name in
            name.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0))
            }
                && (!name.contains(".") || name.hasSuffix(".pref"))
        }.sorted()
        for name in read { self.read(root, "/etc/apt/preferences.d/" + name) }
    }

    var isEmpty: Bool { records.isEmpty && defaultRelease == nil }

    /// The priority of one version of `package`, offered at `places` (none: only installed).
    func priority(package: String, version: String, places: [Place], installed: Bool) -> Int {
        for record in records {
            guard let names = record.packages, names.contains(where: { Self.matches($0, package) }) else { continue }
            if matches(record.pin, version: version, places: places) { return record.priority }
        }
        let general = records.filter { $0.packages == nil && matches($0.pin, version: version, places: places) }
        if let highest = general.map(\.priority).max() { return highest }
        var priority = installed ? 100 : Int.min
        for place in places {
            let target = defaultRelease.map { place.release.suite == $0 || place.release.codename == $0 } ?? false
            priority = max(priority, target ? 990 : place.release.defaultPriority)
        }
        return priority
    }

    private func matches(_ pin: Pin, version: String, places: [Place]) -> Bool {
        switch pin {
        case .version(let pattern): return Self.matches(pattern, version)
        case .origin(let host): return places.contains { $0.host == host }
        case .release(let conditions):
            return places.contains { place in
                conditions.allSatisfy { key, value in
                    let field: String
                    switch key {
                    case "a": field = place.release.suite
                    case "n": field = place.release.codename
                    case "v": field = place.release.version
                    case "c": field = place.component
                    case "o": field = place.release.origin
                    case "l": field = place.release.label
                    default: return false
                    }
                    return Self.matches(value, field)
                }
            }
        }
    }

    /// A name, a glob (`*`, `?`, `[...]`) or a /regex/.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        if pattern.count >= 2, pattern.hasPrefix("/"), pattern.hasSuffix("/") {
            var expression = regex_t()
            guard regcomp(&expression, String(pattern.dropFirst().dropLast()), REG_EXTENDED | REG_NOSUB) == 0 else {
                return false
            }
            defer { regfree(&expression) }
            return regexec(&expression, text, 0, nil, 0) == 0
        }
        guard pattern.contains(where: { "*?[".contains($0) }) else { return pattern == text }
        return fnmatch(pattern, text, 0) == 0
    }

    private mutating func read(_ root: HostRoot, _ path: String) {
        let text: String
        do {
            guard let bytes = try root.readFileIfPresent(path, limit: 4 << 20) else { return }
            text = String(decoding: bytes, as: UTF8.self)
        } catch {
            // Pins that went unread could change which version is the candidate.
            issues.append(.unreadable(.apt, error, about: .packageLists))
            return
        }
        for fields in Deb822Fields.paragraphs(text) {
            guard let packages = fields["Package"], let pinText = fields["Pin"],
                let priority = fields["Pin-Priority"].flatMap({ Int($0.trimmingCharacters(in: " ")) }),
                let pin = Self.pin(pinText)
            else {
                issues.append(
                    FactIssue(
                        .apt, .error, .damaged, path: path,
                        Localized(
                            ja: "\(path): 読めない設定があります (Package, Pin, Pin-Priority が必要です)",
                            en: "\(path): a record apt cannot use (Package, Pin and Pin-Priority are needed)"),
                        about: .packageLists))
                continue
            }
            let names = packages.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            records.append(Record(packages: names == ["*"] ? nil : names, pin: pin, priority: priority))
        }
    }

    /// `release a=stable, n=bookworm`, `version 1.2*`, `origin "deb.debian.org"`.
    private static func pin(_ text: String) -> Pin? {
        let words = text.trimmingCharacters(in: " \t")
        guard let space = words.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let kind = words[..<space]
        let rest = words[space...].trimmingCharacters(in: " \t")
        switch kind {
        case "version": return .version(rest)
        case "origin": return .origin(rest.trimmingCharacters(in: "\""))
        case "release":
            var conditions: [(String, String)] = []
            for part in rest.split(separator: ",") {
                let condition = part.trimmingCharacters(in: " \t")
                if let equals = condition.firstIndex(of: "=") {
                    conditions.append(
                        (String(condition[..<equals]), String(condition[condition.index(after: equals)...])))
                } else {
                    // A bare value is the release's version number ("Pin: release 12").
                    conditions.append(("v", condition))
                }
            }
            return conditions.isEmpty ? nil : .release(conditions)
        default: return nil
        }
    }
}
