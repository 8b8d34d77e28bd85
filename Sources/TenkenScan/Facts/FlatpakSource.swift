/// An installed Flatpak application, system-wide or in one user's home.
public struct FlatpakApp: Sendable, Codable, Hashable {
    public let id: String
    /// "system", or the home directory that holds a per-user installation.
    public let installation: String
}

/// Lists the Flatpak applications installed system-wide and in each home directory.
public enum FlatpakSource {
    static let systemPath = "/var/lib/flatpak/app"
    static let userPath = ".local/share/flatpak/app"

    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        var places = [(HostPath(systemPath), "system")]
        for home in facts.homes { places.append((home.location.appending(userPath), home.path)) }
        for (path, installation) in places {
            do {
                guard let directory = try root.directoryIfPresent(path) else { continue }
                for entry in try directory.entries() where entry.kind == .directory {
                    // An app directory without `current` is a leftover of an interrupted removal.
                    guard (try? directory.subdirectory(entry.name).status(FileName("current"))) != nil else { continue }
                    facts.flatpaks.append(FlatpakApp(id: entry.name.display, installation: installation))
                }
            } catch {
                facts.issues.append(.unreadable(.flatpak, error))
            }
        }
    }
}
