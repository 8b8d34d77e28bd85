/// An installed snap, from /var/lib/snapd/snaps/NAME_REVISION.snap.
public struct SnapPackage: Sendable, Codable, Hashable {
    public let name: String
    public let revision: String
}

/// Lists the installed snaps from the file names in /var/lib/snapd/snaps.
public enum SnapSource {
    static let snapsPath = "/var/lib/snapd/snaps"

    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        do {
            guard let directory = try root.directoryIfPresent(snapsPath) else { return }
            var seen = Set<SnapPackage>()
            for entry in try directory.entries() where entry.kind == .file || entry.kind == .symlink {
                let name = entry.name.display
                guard name.hasSuffix(".snap"), let underscore = name.lastIndex(of: "_") else { continue }
                let snap = SnapPackage(
                    name: String(name[..<underscore]),
                    revision: String(name[name.index(after: underscore)...].dropLast(5)))
                if seen.insert(snap).inserted { facts.snaps.append(snap) }
            }
        } catch {
            facts.issues.append(.unreadable(.snap, error))
        }
    }
}
