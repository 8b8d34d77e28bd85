/// Answers "does this path exist under the root?" for the paths a catalog names, such as
/// /opt/teamviewer or ~/.dropbox-dist, in every home directory for `~/` paths.
enum PathProbe {
    static func collect(_ root: HostRoot, paths: Set<String>, into facts: inout HostFacts) {
        for path in paths {
            if path.hasPrefix("~/") {
                for home in facts.homes {
                    let relative = String(path.dropFirst(2))
                    facts.probedPaths[home.path(relative)] = root.exists(home.location.appending(relative))
                }
            } else {
                facts.probedPaths[path] = root.exists(path)
            }
        }
    }
}
