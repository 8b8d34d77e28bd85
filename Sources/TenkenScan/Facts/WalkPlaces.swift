import TenkenBase

/// What each directory of the one walk from the root is, as `ExecutableSource` keeps names:
/// the places programs are kept (each home, /opt, /usr/local, /srv, the temporary directories,
/// the PATH directories) by their paths, a Wine prefix's drive_c wherever it is, and everything
/// else `system`. One walk from the root, rather than one per place, reads every directory once
/// and leaves no directory between two starts to be read again by every walk of the agent.
struct WalkPlaces {
    /// Where the walk is: its place, and the node of the path tree it is at (-1: below every
    /// named place, so only Wine prefixes can change it).
    struct Place {
        let location: ExecutableFile.Location
        let node: Int32
    }

    private struct Node {
        var location: ExecutableFile.Location?
        var children: [[UInt8]: Int32] = [:]
    }

    private var nodes = [Node(location: nil)]
    /// Whether the walk goes below the named places at all (it does when it inspects content).
    let everywhere: Bool

    init(homes: [HostPath], everywhere: Bool) {
        self.everywhere = everywhere
        for (path, location) in ExecutableSource.wholeTrees { add(HostPath(path), location) }
        for path in ExecutableSource.systemPaths { add(HostPath(path), .systemPath) }
        // Last, so a home below one of the trees above (/srv/home/alice) is a home.
        for home in homes { add(home, .home) }
    }

    var start: Place { Place(location: .system, node: 0) }

    private mutating func add(_ path: HostPath, _ location: ExecutableFile.Location) {
        let components = path.bytes.split(separator: 0x2F).map(Array.init)
        guard !components.isEmpty else { return }
        var node = 0
        for component in components {
            if let next = nodes[node].children[component] {
                node = Int(next)
            } else {
                nodes.append(Node(location: nil))
                nodes[node].children[component] = Int32(nodes.count - 1)
                node = nodes.count - 1
            }
        }
        nodes[node].location = location
    }

    /// The place of the subdirectory `name` of a directory at `place`; nil: not walked (below no
    /// named place when the walk does not go everywhere).
    func descend(_ name: UnsafeBufferPointer<UInt8>, _ place: Place) -> Place? {
        if place.location != .winePrefix, name.elementsEqual("drive_c".utf8) {
            return Place(location: .winePrefix, node: -1)
        }
        guard place.node >= 0, let child = nodes[Int(place.node)].children[Array(name)] else {
            guard everywhere || place.location != .system else { return nil }
            return Place(location: place.location, node: -1)
        }
        return Place(location: nodes[Int(child)].location ?? place.location, node: child)
    }
}
