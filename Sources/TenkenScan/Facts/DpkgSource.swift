import TenkenBase

/// Installed Debian packages from the root's /var/lib/dpkg/status.
public enum DpkgSource {
    public static let statusPath = "/var/lib/dpkg/status"
    /// Past this many, problems are counted rather than listed one by one.
    static let listedProblems = 20

    public static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        let bytes: [UInt8]
        do {
            guard let present = try root.readFileIfPresent(statusPath) else {
                facts.dpkgAvailable = false
                facts.issues.append(missingStatus(root))
                return
            }
            bytes = present
        } catch {
            facts.issues.append(.unreadable(.dpkg, error))
            return
        }
        facts.dpkgAvailable = true
        let parsed = DpkgStatusParser(bytes)
        if !parsed.packages.contains(where: \.isPresent) && parsed.problems.isEmpty {
            // Every Debian system has installed packages: an emptied database hides them all.
            facts.issues.append(
                FactIssue(
                    .dpkg, .error, .damaged, path: statusPath,
                    Localized(
                        ja: "\(statusPath) にインストール済みのパッケージが 1 つもありません (空にされたデータベース)",
                        en: "\(statusPath) lists no installed package at all (an emptied database)")))
        }
        facts.debianPackages = parsed.packages
        facts.installedPackageNames = Set(parsed.packages.filter(\.isPresent).map(\.name))
        for problem in parsed.problems.prefix(listedProblems) {
            facts.issues.append(
                FactIssue(
                    .dpkg, .error, .damaged, path: statusPath,
                    Localized(
                        ja: "\(statusPath): \(problem.message.ja)", en: "\(statusPath): \(problem.message.en)")))
        }
        let unlisted = parsed.problems.count - listedProblems
        if unlisted > 0 {
            facts.issues.append(
                FactIssue(
                    .dpkg, .error, .damaged, path: statusPath,
                    Localized(
                        ja: "\(statusPath): ほかに \(unlisted) 件の破損した項目があります",
                        en: "\(statusPath): \(unlisted) more damaged stanzas")))
        }
    }

    /// No status file: on a root that is Debian (dpkg, its directory, or os-release say so) the
    /// database was removed and every package is hidden; on another root there is nothing to read.
    static func missingStatus(_ root: HostRoot) -> FactIssue {
        if isDebian(root) {
            return FactIssue(
                .dpkg, .error, .missing, path: statusPath,
                Localized(
                    ja: "Debian 系のシステムですが \(statusPath) がないため、インストール済みパッケージを確認できません",
                    en: "a Debian system without \(statusPath): the installed packages cannot be known"))
        }
        return FactIssue(
            .dpkg, .limited, .missing, path: statusPath,
            Localized(
                ja: "\(statusPath) がないため、deb パッケージは確認していません",
                en: "no \(statusPath): Debian packages were not checked"))
    }

    /// Debian or a derivative by its os-release (ID or ID_LIKE debian or ubuntu); without an
    /// os-release, by dpkg's program or directory (dpkg alone also runs on other systems).
    static func isDebian(_ root: HostRoot) -> Bool {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            guard let bytes = try? root.readFileIfPresent(path, limit: 1 << 16) else { continue }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                guard line.hasPrefix("ID=") || line.hasPrefix("ID_LIKE=") else { continue }
                let value = line.drop { $0 != "=" }.dropFirst().trimmingCharacters(in: "\"' ")
                if value.split(separator: " ").contains(where: { $0 == "debian" || $0 == "ubuntu" }) { return true }
            }
            return false
        }
        return root.exists("/usr/bin/dpkg") || root.exists("/var/lib/dpkg")
    }
}
