/// What one walk learned below one start, kept so that the next walk can take again, without
/// reading them, the directories the change journal says nothing changed in. Kept flat, in the
/// order the walk met it: directories in preorder, so a directory's subtree is one run of
/// `directories` and its records one run of `records`. A subtree nothing touched is then taken
/// as two copies, and a start nothing touched is shared as it is, whatever its size.
final class WalkedTree<Record: Sendable>: Sendable {
    /// One directory, packed into 72 bytes: the agent keeps one for each directory it walks
    /// (31,000 on a desktop) between checks. Counts and indexes are stored in 32 bits (a walk's
    /// entry bound is far below that); the properties give them as `Int`.
    struct Directory: Sendable {
        let device: UInt64
        let inode: UInt64
        private var keyDigest: UInt64
        private var hasKey: Bool
        private var memberBounds: (UInt32, UInt32)
        private let nameBounds: (UInt32, UInt32)
        private let storedPosition: Int32
        private var storedEntryCount: Int32
        private var storedSubtreeEntries: Int32
        private var storedEnd: Int32
        private let storedRecordsStart: Int32
        private var storedRecordsEnd: Int32

        init(
            device: UInt64, inode: UInt64, key: UInt64?, members: Range<Int>, name: Range<Int>, position: Int,
            entryCount: Int, subtreeEntries: Int, end: Int, recordsStart: Int, recordsEnd: Int
        ) {
            self.device = device
            self.inode = inode
            keyDigest = key ?? 0
            hasKey = key != nil
            memberBounds = (UInt32(members.lowerBound), UInt32(members.upperBound))
            nameBounds = (UInt32(name.lowerBound), UInt32(name.upperBound))
            storedPosition = Int32(clamping: position)
            storedEntryCount = Int32(clamping: entryCount)
            storedSubtreeEntries = Int32(clamping: subtreeEntries)
            storedEnd = Int32(end)
            storedRecordsStart = Int32(recordsStart)
            storedRecordsEnd = Int32(recordsEnd)
        }

        /// The digest of the journal's key for it; nil when its file system is not journaled or
        /// a gap was met in it, so every walk reads it.
        var key: UInt64? {
            get { hasKey ? keyDigest : nil }
            set {
                keyDigest = newValue ?? 0
                hasKey = newValue != nil
            }
        }
        /// Digests of the keys of its files that have other names, in `memberKeys`: a change
        /// through any of those names is a change here.
        var members: Range<Int> {
            get { Int(memberBounds.0)..<Int(memberBounds.1) }
            set { memberBounds = (UInt32(newValue.lowerBound), UInt32(newValue.upperBound)) }
        }
        /// Its name in `names` (the start's is empty).
        var name: Range<Int> { Int(nameBounds.0)..<Int(nameBounds.1) }
        /// Where readdir listed it in its parent: the parent's entries up to and including it
        /// (0 for the start). A walk taking the parent charges its bound in that order, so the
        /// bound cuts where reading would.
        var position: Int { Int(storedPosition) }
        /// Entries readdir returned, counted against the walk's bound as if read.
        var entryCount: Int {
            get { Int(storedEntryCount) }
            set { storedEntryCount = Int32(clamping: newValue) }
        }
        /// Entries in its whole subtree, itself included (a count past 2^31 is kept as 2^31 - 1,
        /// which is still more than any walk's bound).
        var subtreeEntries: Int {
            get { Int(storedSubtreeEntries) }
            set { storedSubtreeEntries = Int32(clamping: newValue) }
        }
        /// Past its subtree in `directories`.
        var end: Int {
            get { Int(storedEnd) }
            set { storedEnd = Int32(newValue) }
        }
        /// Its subtree's records in `records`, its own and its subdirectories' in walk order.
        var recordsStart: Int { Int(storedRecordsStart) }
        var recordsEnd: Int {
            get { Int(storedRecordsEnd) }
            set { storedRecordsEnd = Int32(newValue) }
        }
    }

    let directories: [Directory]
    let records: [Record]
    /// For each record, the position of its entry in its directory (as `Directory.position`).
    let positions: [Int32]
    let names: [UInt8]
    let memberKeys: [UInt64]

    init(_ builder: Builder) {
        directories = builder.directories
        records = builder.records
        positions = builder.positions
        names = builder.names
        memberKeys = builder.memberKeys
    }

    func name(_ index: Int) -> ArraySlice<UInt8> { names[directories[index].name] }

    /// The direct subdirectories of `index`, in walk order.
    func children(_ index: Int) -> some Sequence<Int> {
        sequence(first: index + 1) { [directories] in directories[$0].end }.lazy.prefix { [directories] in
            $0 < directories[index].end
        }
    }

    /// A tree as a walk makes it: directories opened when entered and closed when left, and
    /// runs of an earlier tree copied in whole.
    struct Builder {
        private(set) var directories: [Directory] = []
        /// Appended by the walk's visitor; `placed(at:)` then gives the new ones their entry's position.
        var records: [Record] = []
        private(set) var positions: [Int32] = []
        private(set) var names: [UInt8] = []
        private(set) var memberKeys: [UInt64] = []
        /// False: only records are kept (a walk with no memory to keep its directories for).
        let keepsDirectories: Bool

        init(keepsDirectories: Bool = true) { self.keepsDirectories = keepsDirectories }

        /// Starts a directory; its subdirectories and records follow until it is closed.
        mutating func open(device: UInt64, inode: UInt64, name: some Collection<UInt8>, position: Int) -> Int {
            guard keepsDirectories else { return -1 }
            let nameStart = names.count
            names += name
            directories.append(
                Directory(
                    device: device, inode: inode, key: nil, members: 0..<0, name: nameStart..<names.count,
                    position: position, entryCount: 0, subtreeEntries: 0, end: 0, recordsStart: records.count,
                    recordsEnd: 0))
            return directories.count - 1
        }

        mutating func close(_ index: Int, key: UInt64?, members: some Collection<UInt64>, entryCount: Int) {
            guard keepsDirectories else { return }
            let memberStart = memberKeys.count
            memberKeys += members
            var entries = entryCount
            var child = index + 1
            while child < directories.count {
                entries += directories[child].subtreeEntries
                child = directories[child].end
            }
            directories[index].key = key
            directories[index].members = memberStart..<memberKeys.count
            directories[index].entryCount = entryCount
            directories[index].subtreeEntries = entries
            directories[index].end = directories.count
            directories[index].recordsEnd = records.count
        }

        /// Gives the records the visitor appended since there were `count` the position of their entry.
        mutating func placed(since count: Int, at position: Int) {
            guard keepsDirectories else { return }
            positions += repeatElement(Int32(clamping: position), count: records.count - count)
        }

        /// Copies records of `tree` (its records in `range`) as they were.
        mutating func copyRecords(_ tree: WalkedTree, _ range: Range<Int>) {
            records += tree.records[range]
            positions += tree.positions[range]
        }

        /// Copies the subtree of `index` in `tree` (its directories and records) as it was.
        mutating func copy(_ tree: WalkedTree, subtree index: Int) {
            let top = tree.directories[index]
            let shift = directories.count - index
            let recordShift = records.count - top.recordsStart
            directories.reserveCapacity(directories.count + top.end - index)
            for var directory in tree.directories[index..<top.end] {
                let nameStart = names.count
                names += tree.names[directory.name]
                let memberStart = memberKeys.count
                memberKeys += tree.memberKeys[directory.members]
                directory = Directory(
                    device: directory.device, inode: directory.inode, key: directory.key,
                    members: memberStart..<memberKeys.count, name: nameStart..<names.count,
                    position: directory.position, entryCount: directory.entryCount,
                    subtreeEntries: directory.subtreeEntries,
                    end: directory.end + shift, recordsStart: directory.recordsStart + recordShift,
                    recordsEnd: directory.recordsEnd + recordShift)
                directories.append(directory)
            }
            copyRecords(tree, top.recordsStart..<top.recordsEnd)
        }
    }

    /// Which directories of this tree a walk must read again (`dirty`: not journaled, or a change
    /// touched it or a file with another name in it), and which subtrees hold none of them.
    struct Marks {
        private let dirty: [Bool]
        /// Dirty directories before each index, so a subtree's count is a subtraction.
        private let dirtyBefore: [Int32]

        init(_ tree: WalkedTree, touched: IdentitySet) {
            var dirty = [Bool](repeating: false, count: tree.directories.count)
            var before = [Int32](repeating: 0, count: tree.directories.count + 1)
            for (index, directory) in tree.directories.enumerated() {
                let touchedHere =
                    (directory.key.map { touched.contains($0) } ?? true)
                    || tree.memberKeys[directory.members].contains { touched.contains($0) }
                dirty[index] = touchedHere
                before[index + 1] = before[index] + (touchedHere ? 1 : 0)
            }
            self.dirty = dirty
            dirtyBefore = before
        }

        func unchanged(_ index: Int) -> Bool { !dirty[index] }

        func unchanged(_ tree: WalkedTree, subtree index: Int) -> Bool {
            dirtyBefore[tree.directories[index].end] == dirtyBefore[index]
        }
    }
}
