/// The previous walk and what changed since, as a walk consults them.
struct WalkMemory<Record: Sendable> {
    /// The trees of the previous walk by start (reach and path).
    var previous: [String: WalkedTree<Record>]
    /// Digests of the keys the journal saw changes to since the previous walk. A digest that
    /// happens to equal an unchanged directory's only makes that directory read again.
    var touched: IdentitySet
    /// The journal, to mark file systems a walk meets; nil: nothing is journaled (every directory is read).
    var journal: ChangeJournal?
    /// File system ids by device, and whether the journal marks them.
    var fileSystems: [UInt64: (id: [UInt8], journaled: Bool)] = [:]
}
