/// An installed package whose apt candidate is newer: what `apt list --upgradable` lists.
public struct PendingUpdate: Sendable, Hashable, Codable {
    public let name: String
    public let architecture: String
    public let installed: String
    public let candidate: String
    /// Archives offering the candidate, as apt names them ("bookworm-security").
    public let archives: [String]
    public let isSecurity: Bool
    /// Held back with `apt-mark hold` (dpkg's selection is hold): still pending, a hold excuses nothing.
    public var isHeld = false
    /// A security update APT preferences keep away: apt does not list it, yet it is not applied.
    public var isPinned = false
    /// When tenken first saw it pending (a security update: pending as one), from the update
    /// history; nil when that is not known.
    public var firstSeen: Int?
    /// Pending for an unknown time, at least since this: the history began with it pending.
    public var pendingAtLeastSince: Int?

    public init(
        name: String, architecture: String, installed: String, candidate: String, archives: [String],
        isSecurity: Bool
    ) {
        self.name = name
        self.architecture = architecture
        self.installed = installed
        self.candidate = candidate
        self.archives = archives
        self.isSecurity = isSecurity
    }
}

/// apt's candidate selection: every version gets a priority (without preferences, its archive's
/// default: 500, or 100/1 for NotAutomatic archives, the installed version at least 100; with
/// them, as `AptPreferences` says); the highest priority wins, then the highest version; below
/// 1000 a version older than the installed one is never a candidate, and below 0 none is.
enum CandidateSelection {
    static func pendingUpdates(
        installed: [DebianPackage], indexes: [AptIndex], nativeArchitecture: String,
        preferences: AptPreferences = AptPreferences()
    ) -> [PendingUpdate] {
        var offered: [String: [(offer: AptIndex.Offer, release: AptRelease, place: Int)]] = [:]
        let places = indexes.map { AptPreferences.Place(release: $0.release, list: $0.file) }
        for (number, index) in indexes.enumerated() {
            for offer in index.offers { offered[offer.name, default: []].append((offer, index.release, number)) }
        }
        var updates: [PendingUpdate] = []
        for package in installed where package.isPresent {
            guard let offers = offered[package.name] else { continue }
            let architecture = package.architecture == "all" ? nativeArchitecture : package.architecture
            let current = DebianVersion(package.version)
            var versions: [DebianVersion: (priority: Int, releases: [AptRelease], places: [Int])] = [
                current: (100, [], [])
            ]
            for (offer, release, place) in offers {
                let offerArchitecture = offer.architecture == "all" ? nativeArchitecture : offer.architecture
                guard offerArchitecture == architecture else { continue }
                let version = DebianVersion(offer.version)
                var entry = versions[version] ?? (0, [], [])
                entry.priority = max(entry.priority, release.defaultPriority)
                entry.releases.append(release)
                entry.places.append(place)
                versions[version] = entry
            }
            let byDefault = candidate(versions.mapValues(\.priority), current: current)
            var chosen = byDefault
            if !preferences.isEmpty {
                var pinned: [DebianVersion: Int] = [:]
                for (version, entry) in versions {
                    pinned[version] = preferences.priority(
                        package: package.name, version: version.text, places: entry.places.map { places[$0] },
                        installed: version == current)
                }
                chosen = candidate(pinned, current: current)
            }
            func update(_ version: DebianVersion, pinned: Bool) -> PendingUpdate {
                let releases = versions[version]!.releases
                var update = PendingUpdate(
                    name: package.name, architecture: package.architecture, installed: package.version,
                    candidate: version.text, archives: Array(Set(releases.map(\.name))).sorted(),
                    isSecurity: releases.contains { $0.isSecurity })
                update.isHeld = package.status.hasPrefix("hold ")
                update.isPinned = pinned
                return update
            }
            if let chosen, chosen > current {
                updates.append(update(chosen, pinned: false))
            } else if let byDefault, byDefault > current, versions[byDefault]!.releases.contains(where: \.isSecurity) {
                // A pin that keeps a security update away: apt no longer lists it, and it is still not applied.
                updates.append(update(byDefault, pinned: true))
            }
        }
        return updates.sorted { ($0.name, $0.architecture) < ($1.name, $1.architecture) }
    }

    /// The version apt would pick by these priorities: the highest priority, then the highest
    /// version; none below 0, and none older than the installed one below 1000.
    private static func candidate(_ priorities: [DebianVersion: Int], current: DebianVersion) -> DebianVersion? {
        var best: (version: DebianVersion, priority: Int)?
        for (version, priority) in priorities {
            if priority < 0 || (priority < 1000 && version < current) { continue }
            if best == nil || priority > best!.priority || (priority == best!.priority && version > best!.version) {
                best = (version, priority)
            }
        }
        return best?.version
    }
}
