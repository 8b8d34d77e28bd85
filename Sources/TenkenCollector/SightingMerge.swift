/// What a report's pending security updates change in a machine's record of when each was
/// first seen: the earliest sighting of each is kept, and the sightings of versions no longer
/// installed (a package reported at another version was upgraded) are forgotten.
public struct SightingMerge: Sendable, Equatable {
    /// Sightings to write (new, or earlier than the one kept).
    public var writes: [UpdateSighting] = []
    /// (package, installed version) no longer pending.
    public var deletes: [UpdateSighting] = []
    /// The oldest first sighting among the updates the report names.
    public var oldest: Int?

    /// `known`: package, then installed version, then when first seen.
    public init(known: [String: [String: Int]], reported: [UpdateSighting]) {
        var known = known
        var reportedVersions: [String: Set<String>] = [:]
        for sighting in reported {
            reportedVersions[sighting.package, default: []].insert(sighting.installed)
            if let kept = known[sighting.package]?[sighting.installed], kept <= sighting.firstSeen {
                oldest = min(oldest ?? kept, kept)
                continue
            }
            writes.append(sighting)
            known[sighting.package, default: [:]][sighting.installed] = sighting.firstSeen
            oldest = min(oldest ?? sighting.firstSeen, sighting.firstSeen)
        }
        for (package, versions) in reportedVersions {
            for (stale, firstSeen) in known[package] ?? [:] where !versions.contains(stale) {
                deletes.append(UpdateSighting(package: package, installed: stale, firstSeen: firstSeen))
            }
        }
    }
}
