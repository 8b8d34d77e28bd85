import TenkenBase

/// Reads which Debian or Ubuntu release the root runs, from every file that names it (each one
/// a claim: os-release, debian_version, lsb-release and the installed base-files package), and
/// the support dates distro-info gives it. No single file decides: editing os-release to name a
/// newer release leaves base-files and debian_version naming the real one, and the rule takes
/// the earliest end among the releases named.
enum ReleaseSource {
    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        let osRelease = readOSRelease(root, issues: &facts.issues)
        let baseFiles = facts.debianPackages.first { $0.name == "base-files" && $0.isPresent }?.version
        guard let distribution = distribution(osRelease?.1, baseFiles: baseFiles) else { return }
        var release = ReleaseFacts(distribution: distribution)
        let known = releases(root, distribution, issues: &facts.issues)
        func claim(_ file: String, _ says: String, version: String? = nil, series: String? = nil) {
            let match = known.first { row in
                (version.map { matches(row, $0, distribution) } ?? false) || (series.map { row.series == $0 } ?? false)
            }
            release.claims.append(ReleaseClaim(file: file, says: says, series: match?.series))
        }
        if let (path, fields) = osRelease {
            let family = fields.family
            if fields["ID"] == distribution {
                if let version = fields["VERSION_ID"] { claim(path, "VERSION_ID=\(version)", version: version) }
                let codename =
                    distribution == "ubuntu"
                    ? fields["UBUNTU_CODENAME"] ?? fields["VERSION_CODENAME"] : fields["VERSION_CODENAME"]
                if let codename { claim(path, "VERSION_CODENAME=\(codename)", series: codename) }
            } else if family.contains(distribution) || fields["UBUNTU_CODENAME"] != nil {
                // A derivative's own version means nothing to distro-info: only a codename it
                // shares with its base (Raspberry Pi OS's bookworm, Mint's UBUNTU_CODENAME) counts.
                for key in ["UBUNTU_CODENAME", "DEBIAN_CODENAME", "VERSION_CODENAME"] {
                    if let codename = fields[key], known.contains(where: { $0.series == codename }) {
                        claim(path, "\(key)=\(codename)", series: codename)
                        break
                    }
                }
            } else {
                claim(path, "ID=\(fields["ID"] ?? "")")
            }
        }
        if distribution == "debian", let line = firstLine(root, "/etc/debian_version", issues: &facts.issues) {
            // "12.11" on a release; "forky/sid" on testing and unstable.
            if let slash = line.firstIndex(of: "/") {
                claim("/etc/debian_version", line, series: String(line[..<slash]))
            } else {
                claim("/etc/debian_version", line, version: String(line.prefix { $0 != "." }))
            }
        }
        if distribution == "debian", let baseFiles {
            // 12.4+deb12u15: the release's number, then its point updates.
            claim("dpkg: base-files", baseFiles, version: String(baseFiles.prefix { $0.isNumber }))
        }
        if distribution == "ubuntu", let text = read(root, "/etc/lsb-release", issues: &facts.issues) {
            let fields = OSRelease(text)
            if let version = fields["DISTRIB_RELEASE"] {
                claim("/etc/lsb-release", "DISTRIB_RELEASE=\(version)", version: version)
            }
            if let codename = fields["DISTRIB_CODENAME"] {
                claim("/etc/lsb-release", "DISTRIB_CODENAME=\(codename)", series: codename)
            }
        }
        var named: Set<String> = []
        release.releases = release.claims.compactMap { claim in
            claim.series.flatMap { series in named.insert(series).inserted ? known.first { $0.series == series } : nil }
        }
        let entries = AptSources.entries(root, issues: &facts.issues, source: .release, about: nil) ?? []
        release.extendedSupport = entries.map(\.uri).filter { isExtendedSupport($0, distribution) }
        release.server = facts.installedPackageNames.contains("ubuntu-server")
        facts.release = release
    }

    /// Whether a version a file gives names the row: the same number, or for Debian a major
    /// number alone (debian_version's "5.0.10" and base-files' "5lenny10" say 5, the row 5.0).
    private static func matches(_ row: DistroRelease, _ version: String, _ distribution: String) -> Bool {
        guard !version.isEmpty else { return false }
        if row.number == version { return true }
        return distribution == "debian" && !version.contains(".") && row.number.prefix { $0 != "." } == version
    }

    /// Freexian's Extended LTS for Debian, Ubuntu Pro's Expanded Security Maintenance.
    static func isExtendedSupport(_ uri: String, _ distribution: String) -> Bool {
        let location = uri.lowercased()
        if distribution == "debian" { return location.contains("deb.freexian.com/extended-lts") }
        return location.contains("://esm.ubuntu.com/")
    }

    /// Debian or Ubuntu, from os-release (its ID, ID_LIKE or UBUNTU_CODENAME); a root whose
    /// os-release names another system, or has none, is still Debian's when dpkg lists base-files.
    private static func distribution(_ fields: OSRelease?, baseFiles: String?) -> String? {
        if let fields {
            if fields["ID"] == "ubuntu" || fields["UBUNTU_CODENAME"] != nil { return "ubuntu" }
            if fields["ID"] == "debian" || fields.family.contains("debian") { return "debian" }
            if fields.family.contains("ubuntu") { return "ubuntu" }
        }
        guard let baseFiles else { return nil }
        return baseFiles.contains("ubuntu") ? "ubuntu" : "debian"
    }

    /// distro-info's releases of `distribution`: tenken's copy, merged with the root's file.
    private static func releases(_ root: HostRoot, _ distribution: String, issues: inout [FactIssue]) -> [DistroRelease]
    {
        let builtIn = DistroInfo.parse(DistroInfo.builtIn[distribution] ?? [], origin: .builtIn) ?? []
        let path = DistroInfo.path(distribution)
        let own: [UInt8]?
        do { own = try root.readFileIfPresent(path, limit: 4 << 20) } catch {
            // tenken's copy still answers; the root's could only have given earlier dates.
            issues.append(.unreadable(.release, error, level: .limited, hint: Self.copyUsed))
            return builtIn
        }
        guard let own else { return builtIn }
        guard let parsed = DistroInfo.parse(own, origin: .root) else {
            issues.append(
                FactIssue(
                    .release, .limited, .damaged, path: path,
                    Localized(
                        ja: "\(path) は distro-info の形式ではありません" + copyUsed.ja,
                        en: "\(path) is not in distro-info's format" + copyUsed.en)))
            return builtIn
        }
        return DistroInfo.merge(builtIn: builtIn, root: parsed)
    }

    private static let copyUsed = Localized(
        ja: " (tenken 内蔵の distro-info-data を使います)", en: " (tenken's own copy of distro-info-data is used)")

    private static func readOSRelease(_ root: HostRoot, issues: inout [FactIssue]) -> (String, OSRelease)? {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            if let text = read(root, path, issues: &issues) { return (path, OSRelease(text)) }
        }
        return nil
    }

    private static func firstLine(_ root: HostRoot, _ path: String, issues: inout [FactIssue]) -> String? {
        read(root, path, issues: &issues)?.split(separator: "\n").first.map {
            $0.trimmingCharacters(in: " \t\r")
        }
    }

    /// A file's text; nil when it is missing, or unreadable (an error: what it says went unseen).
    private static func read(_ root: HostRoot, _ path: String, issues: inout [FactIssue]) -> String? {
        do {
            guard let bytes = try root.readFileIfPresent(path, limit: 1 << 20) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        } catch {
            issues.append(.unreadable(.release, error))
            return nil
        }
    }
}
