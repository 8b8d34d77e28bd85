import TenkenBase

/// `release-supported` (002 第11条(10)エ, 001 第6条7): the release the machine runs still gets
/// security updates. A release past its end has nothing pending, so the update rules pass it:
/// it is the least patched machine of all. Debian counts until its LTS end (LTS updates come
/// through the regular security archive), and until Extended LTS's end only with Freexian's
/// archive configured and enabled; Ubuntu until its end (the server one with ubuntu-server),
/// and ESM's only with ESM's archive configured and enabled. When the files name different
/// releases, the earliest end decides.
enum ReleaseSupport {
    static func evaluate(_ rule: Rule, warnDays: Int, in context: EvaluationContext) -> Finding {
        let issues = context.issues(from: [.dpkg, .release])
        let incomplete = issues.contains { $0.level == .error }
        guard let release = context.facts.release else {
            if incomplete { return Evaluator.finding(rule, status: .error, evidence: [], issues: issues) }
            return Evaluator.finding(
                rule, status: .notApplicable, evidence: [], issues: issues,
                notes: [Localized(ja: "Debian 系・Ubuntu 系のシステムではありません", en: "not a Debian or Ubuntu system")])
        }
        let now = context.now
        var evidence = release.claims.map { claim(release, $0) }
        var notes: [Localized] = []
        let supports = release.releases.map { Support($0, release, now: now) }
        guard !supports.isEmpty else {
            let error = Localized(
                ja: "どのファイルからも distro-info が知るリリースを特定できないため、サポート期限を判断できません",
                en: "no file names a release distro-info knows, so when its support ends cannot be told")
            return Evaluator.finding(rule, status: .error, evidence: evidence, issues: issues, errors: [error])
        }
        if supports.count > 1 {
            notes.append(
                Localized(
                    ja: "ファイルごとに異なるリリースを示しています。最も早いサポート終了日で判断しました",
                    en: "the files name different releases; the earliest end of support decides"))
        }
        var status: Finding.Status
        let released = supports.filter { !$0.isDevelopment }
        if released.isEmpty {
            evidence.append(supports[0].evidence(note: supports[0].developmentNote))
            status = .warn
        } else if let deciding = released.min(by: { ($0.end ?? .max) < ($1.end ?? .max) }), let end = deciding.end {
            let last = end - PatchRule.day
            if end <= now {
                evidence.append(deciding.evidence(note: deciding.ended(last)))
                status = Evaluator.violated(rule)
            } else {
                let days = (end - now) / PatchRule.day
                evidence.append(deciding.evidence(note: deciding.supported(until: last, days: days)))
                status = end - warnDays * PatchRule.day <= now ? .warn : .pass
            }
            if deciding.release.origin == .root, status == .pass {
                // Only the machine's own file knows it: nothing vouches for its dates.
                notes.append(
                    Localized(
                        ja: "このリリースは tenken 内蔵の distro-info-data になく、日付はマシン上のファイルだけによります",
                        en: "tenken's copy of distro-info-data does not know this release: its dates come only "
                            + "from the machine's own file"))
                status = .warn
            }
        } else {
            evidence.append(released[0].evidence(note: released[0].noEndKnown))
            status = .warn
        }
        // What could not be read could name an older release: only a violation stands.
        if incomplete, status != .fail { status = .error }
        return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues, notes: notes)
    }

    private static func claim(_ release: ReleaseFacts, _ claim: ReleaseClaim) -> Evidence {
        let named = claim.series.flatMap { series in release.releases.first { $0.series == series } }
        let name = named.map { Support.name($0, release.distribution) }
        return Evidence(
            source: .state, software: "", item: claim.file, detail: claim.says,
            note: Localized(
                ja: "\(claim.says): " + (name ?? "distro-info が知らないリリース"),
                en: "\(claim.says): " + (name ?? "a release distro-info does not know")))
    }

    /// One release's end of security support for this machine.
    private struct Support {
        let release: DistroRelease
        let distribution: String
        /// The column that gives the end ("eol-lts"), and the end: 00:00 UTC of the day after
        /// the last supported one.
        let column: String?
        let end: Int?
        /// No release date, or one still to come: testing, unstable, a release in preparation.
        let isDevelopment: Bool

        init(_ release: DistroRelease, _ facts: ReleaseFacts, now: Int) {
            self.release = release
            distribution = facts.distribution
            let extended = !facts.extendedSupport.isEmpty
            let columns: [String]
            if facts.distribution == "debian" {
                columns = (extended ? ["eol-elts"] : []) + ["eol-lts", "eol"]
            } else {
                columns = (extended ? ["eol-esm"] : []) + (facts.server ? ["eol-server"] : []) + ["eol"]
            }
            column = columns.first { release.dates[$0] != nil }
            end = column.flatMap { release.dates[$0] }.map { $0 + PatchRule.day }
            isDevelopment = release.dates["release"].map { $0 > now } ?? true
        }

        static func name(_ release: DistroRelease, _ distribution: String) -> String {
            let vendor = distribution == "ubuntu" ? "Ubuntu" : "Debian"
            return release.version.isEmpty
                ? "\(vendor) \(release.series)" : "\(vendor) \(release.version) (\(release.series))"
        }

        var name: String { Self.name(release, distribution) }

        /// Where the dates came from, as evidence names it.
        var origin: Localized {
            let path = DistroInfo.path(distribution)
            switch release.origin {
            case .root: return Localized(ja: path, en: path)
            case .builtIn: return Localized(ja: "tenken 内蔵の distro-info-data", en: "tenken's copy of distro-info-data")
            case .both:
                return Localized(
                    ja: "\(path) と tenken 内蔵の distro-info-data", en: "\(path) and tenken's copy of distro-info-data")
            }
        }

        var kind: Localized {
            switch column {
            case "eol-lts": return Localized(ja: "LTS", en: "LTS")
            case "eol-elts": return Localized(ja: "Extended LTS (Freexian)", en: "Extended LTS (Freexian)")
            case "eol-esm": return Localized(ja: "ESM (Ubuntu Pro)", en: "ESM (Ubuntu Pro)")
            case "eol-server": return Localized(ja: "サーバー版", en: "server")
            default: return Localized(ja: "通常", en: "regular")
            }
        }

        func evidence(note: Localized) -> Evidence {
            Evidence(
                source: .state, software: "",
                item: release.origin == .builtIn ? "distro-info-data" : DistroInfo.path(distribution),
                version: release.version.isEmpty ? release.series : release.version, detail: column, note: note)
        }

        func supported(until last: Int, days: Int) -> Localized {
            Localized(
                ja: "\(name): セキュリティサポート (\(kind.ja)) は \(Self.date(last)) まで、あと \(days) 日 (\(origin.ja) による)",
                en: "\(name): security support (\(kind.en)) until \(Self.date(last)), \(days) days from now "
                    + "(from \(origin.en))")
        }

        func ended(_ last: Int) -> Localized {
            Localized(
                ja: "\(name): セキュリティサポート (\(kind.ja)) は \(Self.date(last)) で終了しています (\(origin.ja) による)",
                en: "\(name): security support (\(kind.en)) ended on \(Self.date(last)) (from \(origin.en))")
        }

        var developmentNote: Localized {
            Localized(
                ja: "\(name) は開発中のリリース (testing / unstable) で、セキュリティ更新は保証されていません",
                en: "\(name) is a development release (testing or unstable): security updates are not promised")
        }

        var noEndKnown: Localized {
            Localized(
                ja: "\(name): サポート終了日が \(origin.ja) にありません",
                en: "\(name): \(origin.en) gives no end of support")
        }

        static func date(_ seconds: Int) -> String { String(Timestamp.format(seconds: seconds).prefix(10)) }
    }
}
