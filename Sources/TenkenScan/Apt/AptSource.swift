import CCompression
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// Reads apt's lists, dpkg's log and the reboot and unattended-upgrades state under the root.
enum AptSource {
    static let listsPath = AptFacts.listsPath
    static let maximumListSize = 1 << 30

    /// Reads everything the patch rules judge when the request asks for pending updates; only
    /// the lists' Debian tags otherwise (what forbidden-software rules read).
    static func collect(_ root: HostRoot, request: HostFacts.Request, into facts: inout HostFacts) {
        guard facts.dpkgAvailable else { return }
        var apt = AptFacts()
        readLists(root, request: request, facts: &facts, into: &apt)
        if apt.listFiles.isEmpty {
            // Expected on every Debian system: without them pending updates cannot be known.
            facts.issues.append(
                FactIssue(
                    .apt, .error, .missing, path: listsPath,
                    Localized(
                        ja: "パッケージ一覧 (\(listsPath)) がないため、保留中の更新を確認できません"
                            + " (apt update を実行してください)",
                        en: "no package lists in \(listsPath): pending updates cannot be known (run apt update)"),
                    about: .packageLists))
        }
        guard request.pendingUpdates else {
            facts.apt = apt
            return
        }
        apt.reboot = rebootState(root, packages: facts.debianPackages, issues: &facts.issues)
        let config = AptConfig(root)
        facts.issues += config.issues
        apt.automaticUpdates.packageInstalled = facts.debianPackages.contains {
            $0.name == "unattended-upgrades" && $0.isPresent
        }
        apt.automaticUpdates.unattendedUpgrade = config["APT::Periodic::Unattended-Upgrade"]?.value
        apt.automaticUpdates.setIn = config["APT::Periodic::Unattended-Upgrade"]?.file
        apt.automaticUpdates.updatePackageLists = config["APT::Periodic::Update-Package-Lists"]?.value
        facts.apt = apt
    }

    private static func readLists(
        _ root: HostRoot, request: HostFacts.Request, facts: inout HostFacts, into apt: inout AptFacts
    ) {
        let state = request.cacheDirectory
        let directory: Directory
        let entries: [Directory.Entry]
        do {
            guard let present = try root.directoryIfPresent(listsPath) else { return }
            directory = present
            entries = try directory.entries()
        } catch {
            facts.issues.append(.unreadable(.apt, error))
            return
        }
        let prefixes = AptSources.listPrefixes(root, issues: &facts.issues)
        let names = entries.map(\.name.display)
        let releases = names.filter { $0.hasSuffix("_InRelease") || $0.hasSuffix("_Release") }
        if request.pendingUpdates {
            apt.listsUpdatedAt = listsUpdated(root, releases: releases, in: directory, issues: &facts.issues)
        }

        let installed = Set(facts.debianPackages.filter(\.isPresent).map(\.name))
        let native = facts.debianPackages.first { $0.name == "dpkg" }?.architecture ?? "amd64"
        var indexes: [AptIndex] = []
        var cache = ListCache(installed: installed)
        // The agent keeps the cache in memory; it is for the same installed packages or not used.
        if let known = request.memory?.kept(ListCache.slot, as: ListCache.self, fromPreviousCheck: false),
            known.installedDigest == cache.installedDigest
        {
            cache = known
        } else if let state {
            cache.load(from: state)
        }
        for name in names.sorted() {
            guard let (stem, format) = packagesList(name) else { continue }
            if let prefixes, !prefixes.contains(where: { stem.hasPrefix($0) }) { continue }
            let path = listsPath + "/" + name
            do {
                let identity = try directory.identity(FileName(name))
                let offers: [AptIndex.Offer]
                let damaged: Int
                if let known = cache.lookUp(identity) {
                    (offers, damaged) = known
                    apt.listsReused += 1
                } else {
                    (offers, damaged) = try CompressedFile.parseList(
                        directory, FileName(name), format: format, path: path, names: installed,
                        limit: maximumListSize)
                    cache.record(identity, offers: offers, damaged: damaged)
                }
                if damaged > 0 {
                    facts.issues.append(
                        FactIssue(
                            .apt, .error, .damaged, path: path,
                            Localized(
                                ja: "\(path): \(damaged) 個の項目に Package または Version がありません",
                                en: "\(path): \(damaged) stanzas without Package or Version"),
                            about: .packageLists))
                }
                // The Release file decides which offers are security updates; tags need none.
                let release =
                    request.pendingUpdates ? try release(for: stem, among: releases, in: directory) : AptRelease()
                indexes.append(AptIndex(file: path, release: release, offers: offers))
                apt.listFiles.append(path)
            } catch {
                facts.issues.append(.unreadable(.apt, error, about: .packageLists))
            }
        }
        if let state { cache.save(to: state) }
        request.memory?.keep(ListCache.slot, cache.carriedOver())
        for index in indexes {
            for offer in index.offers where !offer.tags.isEmpty {
                apt.packageTags[offer.name, default: []].formUnion(offer.tags)
            }
        }
        guard request.pendingUpdates else { return }
        // Pins and the default release, applied as apt applies them.
        let preferences = AptPreferences(root, defaultRelease: AptConfig(root)["APT::Default-Release"]?.value)
        facts.issues += preferences.issues
        let updates = CandidateSelection.pendingUpdates(
            installed: facts.debianPackages, indexes: indexes, nativeArchitecture: native, preferences: preferences)
        apt.pendingUpdates = updates.filter { !$0.isPinned }
        apt.pinnedSecurityUpdates = updates.filter(\.isPinned)
        // Ages need a history, kept in the state directory; without one they are unknown.
        if let state {
            let now = request.now > 0 ? request.now : Timestamp.seconds()
            var history = UpdateHistory.load(from: state, root: root, now: now, issues: &facts.issues)
            let seen = history.record(
                apt.pendingUpdates + apt.pinnedSecurityUpdates, installed: facts.debianPackages, now: now)
            for index in apt.pendingUpdates.indices {
                apt.pendingUpdates[index].firstSeen = seen[index].at
                apt.pendingUpdates[index].pendingAtLeastSince = seen[index].atLeastSince
            }
            for index in apt.pinnedSecurityUpdates.indices {
                let at = apt.pendingUpdates.count + index
                apt.pinnedSecurityUpdates[index].firstSeen = seen[at].at
                apt.pinnedSecurityUpdates[index].pendingAtLeastSince = seen[at].atLeastSince
            }
            history.save(to: state, issues: &facts.issues)
        }
    }

    /// When the lists were last downloaded: the newest Release file, or apt's update stamp if newer.
    private static func listsUpdated(
        _ root: HostRoot, releases: [String], in directory: Directory, issues: inout [FactIssue]
    ) -> Int? {
        var times: [Int] = []
        for name in releases {
            do { times.append(try directory.status(FileName(name)).modified) } catch {
                issues.append(.unreadable(.apt, error, about: .listsUpdated))
            }
        }
        do {
            if let periodic = try root.directoryIfPresent("/var/lib/apt/periodic") {
                times.append(try periodic.status(FileName("update-success-stamp")).modified)
            }
        } catch  where !error.isNotFound {
            issues.append(.unreadable(.apt, error, about: .listsUpdated))
        } catch {}
        return times.filter(Timestamp.plausible.contains).max()
    }

    /// "…_binary-amd64_Packages.lz4" → ("…_binary-amd64_Packages", lz4).
    private static func packagesList(_ name: String) -> (String, tenken_compression?)? {
        for (suffix, format) in CompressedFile.suffixes where name.hasSuffix("_Packages" + suffix) {
            return (String(name.dropLast(suffix.count)), format)
        }
        return nil
    }

    /// The Release file of a list: the one whose name, less "InRelease"/"Release", is the
    /// longest prefix of the list's name.
    /// A list without a Release file gets apt's defaults; an unreadable Release is an error, since
    /// guessing would turn security updates into ordinary ones.
    private static func release(for list: String, among releases: [String], in directory: Directory)
        throws(HostReadError) -> AptRelease
    {
        let owner = releases.filter {
            list.hasPrefix($0.hasSuffix("_InRelease") ? String($0.dropLast(9)) : String($0.dropLast(7)))
        }
        .max { $0.count < $1.count }
        guard let owner else { return AptRelease() }
        let bytes = try directory.readFile(FileName(owner), limit: 256 << 20)
        return AptRelease(bytes)
    }

    private static func rebootState(
        _ root: HostRoot, packages: [DebianPackage], issues: inout [FactIssue]
    ) -> AptFacts.RebootState {
        var state = AptFacts.RebootState()
        state.flagged = root.exists("/run/reboot-required")
        // Missing is normal (no reboot pending; an image has no /proc); unreadable hides the answer.
        func read(_ path: String) -> [UInt8]? {
            do { return try root.readFileIfPresent(path, limit: 1 << 20) } catch {
                issues.append(.unreadable(.apt, error, about: .rebootState))
                return nil
            }
        }
        if let list = read("/run/reboot-required.pkgs") {
            state.packages = Array(Set(ByteText.split(list[...], on: 0x0A).map { ByteText.display($0) })).sorted()
        }
        if let release = read("/proc/sys/kernel/osrelease") {
            state.runningKernel = ByteText.display(release[...]).trimmingCharacters(in: " \n")
        }
        // linux-image-6.1.0-18-amd64 is a kernel; linux-image-amd64 is the metapackage.
        let kernels = packages.filter { $0.isPresent && $0.name.hasPrefix("linux-image-") }
            .map { String($0.name.dropFirst(12)).replacing("unsigned-", with: "") }
            .filter { $0.first?.isNumber == true }
        if let running = state.runningKernel, let newest = kernels.max(by: { DebianVersion($0) < DebianVersion($1) }),
            DebianVersion(newest) > DebianVersion(running)
        {
            state.newerKernel = newest
        }
        return state
    }
}
