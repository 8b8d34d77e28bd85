/// What one walk learned of one directory, kept so that the next walk can take it again without
/// reading the directory, while the change journal says nothing in it changed: what the visitor
/// made of each entry and the subdirectories entered, in the order the walk met them.
/// Immutable: a later walk shares the subtrees it takes again and makes new nodes for the rest.
final class WalkedDirectory<Record>: Sendable where Record: Sendable {
    enum Item: Sendable {
        case record(Record)
        case directory(name: [UInt8], WalkedDirectory)
    }

    let device: UInt64
    let inode: UInt64
    /// The journal's key for this directory; nil when its file system is not journaled, so it is
    /// read by every walk.
    let key: ChangeJournal.Key?
    /// The journal's keys of its files that have other names: a change through any of those
    /// names is a change here.
    let memberKeys: [ChangeJournal.Key]
    /// Entries readdir returned, counted against the walk's bound as if read.
    let entryCount: Int
    let items: [Item]

    init(
        device: UInt64, inode: UInt64, key: ChangeJournal.Key?, memberKeys: [ChangeJournal.Key], entryCount: Int,
        items: [Item]
    ) {
        self.device = device
        self.inode = inode
        self.key = key
        self.memberKeys = memberKeys
        self.entryCount = entryCount
        self.items = items
    }

    /// The subdirectories by name, for a walk that reads this directory again and may take
    /// those of them that did not change.
    var directories: [[UInt8]: WalkedDirectory] {
        var byName: [[UInt8]: WalkedDirectory] = [:]
        for case .directory(let name, let node) in items { byName[name] = node }
        return byName
    }
}

/// The previous walk and what changed since, as a walk consults them.
struct WalkMemory<Record: Sendable> {
    /// The trees of the previous walk by start (path and reach).
    var previous: [String: WalkedDirectory<Record>]
    /// Keys the journal saw changes to since the previous walk.
    var touched: Set<ChangeJournal.Key>
    /// The journal, to mark file systems a walk meets; nil: nothing is journaled (every node is read).
    var journal: ChangeJournal?
    /// File system ids by device, and whether the journal marks them.
    var fileSystems: [UInt64: (id: [UInt8], journaled: Bool)] = [:]

    /// Whether a node can be taken as it was: journaled, and no change touched it.
    func unchanged(_ node: WalkedDirectory<Record>) -> Bool {
        guard let key = node.key else { return false }
        return !touched.contains(key) && !node.memberKeys.contains(where: touched.contains)
    }
}
