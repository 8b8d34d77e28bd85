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
                // Not a Debian root, or one whose database was removed: either way no package was seen.
                facts.dpkgAvailable = false
                facts.issues.append(
                    FactIssue(
                        .dpkg, .limited, .missing, path: statusPath,
                        Localized(
                            ja: "\(statusPath) がないため、deb パッケージは確認していません",
                            en: "no \(statusPath): Debian packages were not checked")))
                return
            }
            bytes = present
        } catch {
            facts.issues.append(.unreadable(.dpkg, error))
            return
        }
        facts.dpkgAvailable = true
        let parsed = DpkgStatusParser(bytes)
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
}
