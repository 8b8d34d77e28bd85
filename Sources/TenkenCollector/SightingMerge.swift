/// What a full check's pending security updates change in a machine's record of when each was
/// first seen: the earliest sighting of each is kept, and every sighting the report does not
/// name is forgotten (upgraded, or no longer pending). So a machine's sightings are never more
/// than its latest full check names: a report naming new packages each time cannot grow them.
/// Other reports change nothing (`--rules` of another rule would otherwise forget them all, and
/// the next full check make every update young again).
public struct SightingMerge: Sendable, Equatable {
    /// Sightings to write (new, or earlier than the one kept).
    public var writes: [UpdateSighting] = []
    /// (package, installed version) no longer pending.
    public var deletes: [UpdateSighting] = []
    /// The oldest first sighting among the updates the report names.
    public var oldest: Int?

    /// `known`: package, then installed version, then when first seen.
    public init(known: [String: [String: Int]], reported: [UpdateSighting]) {
        // The earliest the report gives for each (package, installed version): it may name one twice.
        var named: [String: [String: Int]] = [:]
        for sighting in reported {
            named[sighting.package, default: [:]][sighting.installed] = min(
                named[sighting.package]?[sighting.installed] ?? sighting.firstSeen, sighting.firstSeen)
        }
        for (package, versions) in named {
            for (installed, firstSeen) in versions {
                if let kept = known[package]?[installed], kept <= firstSeen {
                    oldest = min(oldest ?? kept, kept)
                } else {
                    writes.append(UpdateSighting(package: package, installed: installed, firstSeen: firstSeen))
                    oldest = min(oldest ?? firstSeen, firstSeen)
                }
            }
        }
        for (package, versions) in known {
            for (installed, firstSeen) in versions where named[package]?[installed] == nil {
                deletes.append(UpdateSighting(package: package, installed: installed, firstSeen: firstSeen))
            }
        }
    }
}
