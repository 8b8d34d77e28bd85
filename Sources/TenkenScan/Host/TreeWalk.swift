import CRootedIO
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// Walks directory trees under a root as `find -P` does, without making an object per entry: symlinks
/// are never followed, no directory is entered twice (a bind mount of a parent, starts that overlap),
/// and what stops a walk short becomes an issue naming the path: a directory that cannot be read, the
/// entry bound or the depth bound. Names stay raw bytes, so a name that is not UTF-8 is walked too.
///
/// The visitor turns entries into `Record`s. With a `WalkMemory` (the agent's, fed by its change
/// journal) every directory walked is kept with its records, and a directory of the previous walk
/// that no change touched is taken again without being read: only what changed costs a read.
struct TreeWalk<Record: Sendable> {
    /// How far below a start the walk goes.
    enum Reach: String {
        /// The start's own entries (a PATH directory: what is below it is not on the PATH).
        case entries
        /// Every level, down to the depth bound; reaching that bound is a gap.
        case whole
    }

    /// One entry that is not a directory; `name` and `directoryFD` are valid only during the visit.
    struct Entry {
        let name: UnsafeBufferPointer<UInt8>
        let kind: Directory.EntryKind
        /// The display path of the directory that holds it.
        let directory: String
        /// The directory's path as bytes, to open the entry again later.
        let directoryBytes: [UInt8]
        /// The open directory, for a look at the entry (fstatat) during the visit.
        let directoryFD: Int32
    }

    /// Says whether, and as what place, a subdirectory is walked.
    typealias Descend<Place> = (UnsafeBufferPointer<UInt8>, Place) -> Place?
    /// Makes the records of one entry, and says how well it was seen.
    typealias Visit<Place> = (Entry, Place, inout [Record]) -> Sight

    enum Sight {
        case seen
        /// It could not be looked at (a gap): its directory is read again by the next walk
        /// rather than taken as it was.
        case unseen
        /// A file with more than one name: a change through a name elsewhere changes it here too,
        /// so the journal is asked about the file itself as well as its directory.
        case severalNames
    }

    let root: HostRoot
    let source: FactSource
    let entryLimit: Int
    let depthLimit: Int
    private(set) var issues: [FactIssue] = []
    /// Every record, in the order a full walk meets them (taken again or read anew alike).
    private(set) var records: [Record] = []
    private var memory: WalkMemory<Record>?
    /// This walk's trees by start, for the next walk (with a memory only).
    private(set) var walked: [String: WalkedTree<Record>] = [:]
    /// False once a bound cut a walk short: such a walk is not kept.
    private(set) var complete = true
    /// Directories read and directories taken again, for the counts.
    private(set) var directoriesRead = 0
    private(set) var directoriesTaken = 0
    /// Devices and inodes of the directories entered, so none is entered twice.
    private var entered: IdentitySet
    /// Which file systems are entered; nil: every directory met is (walks of chosen places).
    private let fileSystemPolicy: FileSystemPolicy?
    /// The policy's excluded paths, as bytes under the root.
    private let excludedPaths: Set<[UInt8]>
    /// What was decided for each device met, and by when a network one must be done.
    private var devices: [UInt64: (admitted: Bool, deadline: UInt64?)] = [:]
    /// The file systems and excluded paths met, in the order met.
    private(set) var fileSystemsMet: [MetFileSystem] = []

    /// How the walk of one directory ended, for the directory that holds it.
    private enum Outcome {
        case walked
        /// Entered already by this walk (a bind mount, starts that overlap): nothing to add. Its
        /// parent is still read by the next walk: whether another start enters it first can
        /// change without a change in the parent (a user removed, whose home was that start).
        case enteredAlready
        /// Something in it went unseen (an issue says what) or it is gone although the journal
        /// vouched for its parent: the directory that holds it is read by the next walk.
        case gap
        /// The entry bound was reached: the whole walk from this start ends.
        case spent
    }

    /// A directory of the previous walk, with what the journal says of that walk's tree.
    private struct Earlier {
        let tree: WalkedTree<Record>
        let marks: WalkedTree<Record>.Marks
        let index: Int

        func at(_ other: Int) -> Earlier { Earlier(tree: tree, marks: marks, index: other) }
        var directory: WalkedTree<Record>.Directory { tree.directories[index] }
    }

    init(
        root: HostRoot, source: FactSource, entryLimit: Int, depthLimit: Int, memory: WalkMemory<Record>? = nil,
        fileSystems: FileSystemPolicy? = nil
    ) {
        self.root = root
        fileSystemPolicy = fileSystems
        excludedPaths = Set((fileSystems?.excluded ?? []).map { HostPath($0).bytes })
        self.source = source
        self.entryLimit = entryLimit
        self.depthLimit = depthLimit
        self.memory = memory
        // Sized for the previous walk, so the set is not grown a directory at a time.
        entered = IdentitySet(capacity: max(4096, memory?.previous.values.reduce(0) { $0 + $1.directories.count } ?? 0))
    }

    /// The file systems this walk met, with their ids and whether they are journaled.
    var fileSystems: [UInt64: (id: [UInt8], journaled: Bool)] { memory?.fileSystems ?? [:] }

    /// Walks `start` (missing: nothing to walk).
    mutating func walk<Place>(
        _ start: HostPath, reach: Reach, place: Place, descend: Descend<Place>, visit: Visit<Place>
    ) {
        let fd: Int32
        do {
            fd = try root.open(start, flags: O_RDONLY | O_DIRECTORY)
        } catch {
            if !(error.isNotFound || error.reason == .notADirectory) { issues.append(.unreadable(source, error)) }
            return
        }
        var walk = Progress(budget: entryLimit, reach: reach, start: start.display)
        let startKey = reach.rawValue + ":" + start.display
        var tree = WalkedTree<Record>.Builder(keepsDirectories: memory != nil)
        let outcome: Outcome
        var info = stat()
        if let previous = memory?.previous[startKey], let touched = memory?.touched, fstat(fd, &info) == 0,
            UInt64(info.st_dev) == previous.directories[0].device, UInt64(info.st_ino) == previous.directories[0].inode
        {
            let earlier = Earlier(tree: previous, marks: .init(previous, touched: touched), index: 0)
            if earlier.marks.unchanged(0) {
                close(fd)
                // A start nothing touched is shared as it was.
                if fitsWhole(earlier, walk) {
                    enterWhole(earlier, &walk)
                    records += previous.records
                    walked[startKey] = previous
                    return
                }
                var path = start.bytes
                outcome = take(earlier, path: &path, depth: 1, place: place, &walk, &tree, descend, visit)
            } else {
                outcome = read(
                    fd, path: start.display, bytes: start.bytes, name: [], position: 0, depth: 1, place: place,
                    earlier: earlier, &walk, &tree, descend, visit)
            }
        } else {
            outcome = read(
                fd, path: start.display, bytes: start.bytes, name: [], position: 0, depth: 1, place: place,
                earlier: nil, &walk, &tree, descend, visit)
        }
        records += tree.records
        if memory != nil, outcome == .walked { walked[startKey] = WalkedTree(tree) }
        if walk.budget < 0 {
            complete = false
            let place = walk.stoppedIn ?? walk.start
            issues.append(
                FactIssue(
                    source, .error, .cutShort, path: place,
                    Localized(
                        ja: "\(place): 項目が多すぎるため \(entryLimit) 件で走査を打ち切りました",
                        en: "\(place): stopped after \(entryLimit) entries")))
        }
        if let deeper = walk.tooDeep {
            complete = false
            issues.append(
                FactIssue(
                    source, .error, .cutShort, path: deeper,
                    Localized(
                        ja: "\(deeper): \(depthLimit) 階層より深いため読んでいません",
                        en: "\(deeper): not read, deeper than \(depthLimit) levels")))
        }
    }

    /// What one walk from a start has used and met.
    private struct Progress {
        var budget: Int
        let reach: Reach
        let start: String
        /// The first directory left out for the depth bound.
        var tooDeep: String?
        /// The directory being read when the entry bound was reached (nil: one taken from memory).
        var stoppedIn: String?
    }

    /// Whether a subtree of the previous walk can be taken whole: nothing in it changed, it fits
    /// the entry budget left, and this walk entered none of its directories (starts overlap).
    private func fitsWhole(_ earlier: Earlier, _ walk: Progress) -> Bool {
        let top = earlier.directory
        guard earlier.marks.unchanged(earlier.tree, subtree: earlier.index), top.subtreeEntries <= walk.budget
        else { return false }
        return !earlier.tree.directories[earlier.index..<top.end].contains { entered.contains($0.device, $0.inode) }
    }

    /// Counts a subtree that `fitsWhole` as entered and taken.
    private mutating func enterWhole(_ earlier: Earlier, _ walk: inout Progress) {
        let top = earlier.directory
        for directory in earlier.tree.directories[earlier.index..<top.end] {
            entered.insert(directory.device, directory.inode)
        }
        walk.budget -= top.subtreeEntries
        directoriesTaken += top.end - earlier.index
    }

    /// Takes a directory of the previous walk that no change touched as it was, without reading
    /// it, and goes on into its subdirectories: those whose subtrees nothing touched are copied
    /// whole, the others taken the same way or, if they changed, read. Its entries are charged
    /// to the bound in readdir's order, each subdirectory's subtree where it was listed, so a
    /// bound met here cuts where a walk reading it would, with the same records before the cut.
    private mutating func take<Place>(
        _ earlier: Earlier, path: inout [UInt8], depth: Int, place: Place, _ walk: inout Progress,
        _ tree: inout WalkedTree<Record>.Builder, _ descend: Descend<Place>, _ visit: Visit<Place>
    ) -> Outcome {
        let node = earlier.directory
        guard entered.insert(node.device, node.inode) else { return .enteredAlready }
        directoriesTaken += 1
        let index = tree.open(
            device: node.device, inode: node.inode, name: earlier.tree.name(earlier.index), position: node.position)
        var charged = 0
        var cursor = node.recordsStart
        // Meets the entries up to `position`, copying their records (those up to `end`); false
        // when the bound falls among them, after copying the records of the entries before it.
        func meet(upTo position: Int, recordsBefore end: Int, _ walk: inout Progress) -> Bool {
            let wanted = position - charged
            if wanted <= walk.budget {
                walk.budget -= wanted
                charged = position
                tree.copyRecords(earlier.tree, cursor..<end)
                cursor = end
                return true
            }
            let last = Int32(clamping: charged + walk.budget)
            var met = cursor
            while met < end && earlier.tree.positions[met] <= last { met += 1 }
            tree.copyRecords(earlier.tree, cursor..<met)
            walk.budget = -1
            walk.stoppedIn = ByteText.display(path[...])
            return false
        }
        var gap = false
        for child in earlier.tree.children(earlier.index) {
            let inner = earlier.tree.directories[child]
            guard meet(upTo: inner.position, recordsBefore: inner.recordsStart, &walk) else { return .spent }
            cursor = inner.recordsEnd
            let name = earlier.tree.name(child)
            guard let innerPlace = name.withUnsafeBufferPointer({ descend($0, place) }) else { continue }
            let length = path.count
            if path.last != 0x2F { path.append(0x2F) }
            path += name
            let outcome = subdirectory(
                earlier.at(child), path: &path, depth: depth + 1, place: innerPlace, &walk, &tree, descend, visit)
            path.removeSubrange(length...)
            switch outcome {
            case .spent: return .spent
            case .gap, .enteredAlready: gap = true
            case .walked: break
            }
        }
        guard meet(upTo: node.entryCount, recordsBefore: node.recordsEnd, &walk) else { return .spent }
        tree.close(
            index, key: gap ? nil : node.key, members: earlier.tree.memberKeys[node.members],
            entryCount: node.entryCount)
        return .walked
    }

    /// A subdirectory of a directory taken as it was, at `path`: copied whole, taken, or opened
    /// and read, as the journal says.
    private mutating func subdirectory<Place>(
        _ earlier: Earlier, path: inout [UInt8], depth: Int, place: Place, _ walk: inout Progress,
        _ tree: inout WalkedTree<Record>.Builder, _ descend: Descend<Place>, _ visit: Visit<Place>
    ) -> Outcome {
        guard depth <= depthLimit else {
            if walk.tooDeep == nil { walk.tooDeep = ByteText.display(path[...]) }
            return .walked
        }
        if earlier.marks.unchanged(earlier.index) {
            if fitsWhole(earlier, walk) {
                enterWhole(earlier, &walk)
                tree.copy(earlier.tree, subtree: earlier.index)
                return .walked
            }
            return take(earlier, path: &path, depth: depth, place: place, &walk, &tree, descend, visit)
        }
        let fd: Int32
        do {
            fd = try root.open(HostPath(bytes: path), flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch {
            // Gone since, or replaced by a symlink: nothing is unseen, but its parent is read next time.
            if !(error.isNotFound || error.reason == .system(errno: ELOOP) || error.reason == .notADirectory) {
                issues.append(.unreadable(source, error))
            }
            return .gap
        }
        return read(
            fd, path: ByteText.display(path[...]), bytes: path, name: earlier.tree.name(earlier.index),
            position: earlier.directory.position, depth: depth, place: place, earlier: earlier, &walk, &tree, descend,
            visit)
    }

    /// Reads one open directory (and closes it), then the subdirectories `descend` accepts,
    /// taking those of `earlier` (the same directory in the previous walk) that did not change.
    private mutating func read<Place>(
        _ fd: Int32, path: String, bytes directoryBytes: [UInt8], name: some Collection<UInt8>, position: Int,
        depth: Int, place: Place, earlier: Earlier?, _ walk: inout Progress, _ tree: inout WalkedTree<Record>.Builder,
        _ descend: Descend<Place>, _ visit: Visit<Place>
    ) -> Outcome {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            issues.append(.unreadable(source, HostReadError(path: path, errno: code)))
            return .gap
        }
        let device = UInt64(info.st_dev)
        let inode = UInt64(info.st_ino)
        switch admission(fd, device: device, path: path, bytes: directoryBytes) {
        case .walk: break
        case .skip:
            close(fd)
            return .walked
        case .outOfTime:
            close(fd)
            return .gap
        }
        guard entered.insert(device, inode) else {
            close(fd)
            return .enteredAlready
        }
        directoriesRead += 1
        // The key is taken before the first entry is read, so a change made while reading is journaled.
        let key = memory != nil ? journalKey(fd, device: device) : nil
        // The previous walk's subdirectories of this same directory, by name.
        var before: [[UInt8]: Int] = [:]
        if let earlier, earlier.directory.device == device, earlier.directory.inode == inode {
            for child in earlier.tree.children(earlier.index) { before[Array(earlier.tree.name(child))] = child }
        }
        guard let stream = fdopendir(fd) else {
            let code = errno
            close(fd)
            issues.append(.unreadable(source, HostReadError(path: path, errno: code)))
            return .gap
        }
        defer { closedir(stream) }
        let index = tree.open(device: device, inode: inode, name: name, position: position)
        var members: [UInt64] = []
        var count = 0
        // A gap met here (an entry not looked at, a subdirectory not read) has it read by the next walk.
        var troubled = false
        while true {
            // readdir says "no more" and "failed" alike; only errno tells them apart.
            errno = 0
            guard let raw = readdir(stream) else {
                let code = errno
                if code != 0 {
                    troubled = true
                    issues.append(.unreadable(source, HostReadError(path: path, errno: code)))
                }
                break
            }
            count += 1
            walk.budget -= 1
            if walk.budget < 0 {
                walk.stoppedIn = path
                return .spent
            }
            let type = raw.pointee.d_type
            let entryInode = UInt64(raw.pointee.d_ino)
            let outcome = withUnsafePointer(to: &raw.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: UInt8.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    name -> Outcome in
                    let bytes = UnsafeBufferPointer(start: name, count: strlen(UnsafeRawPointer(name)))
                    if isDotOrDotDot(bytes) { return .walked }
                    guard let kind = Directory.EntryKind(direntType: type) ?? kindByStat(fd, name, path: path, bytes)
                    else { return .gap }
                    guard kind == .directory else {
                        let entry = Entry(
                            name: bytes, kind: kind, directory: path, directoryBytes: directoryBytes, directoryFD: fd)
                        let before = tree.records.count
                        let sight = visit(entry, place, &tree.records)
                        tree.placed(since: before, at: count)
                        switch sight {
                        case .seen: return .walked
                        case .unseen: return .gap
                        case .severalNames:
                            guard let key, let member = fileKey(fd, name, fileSystem: key.prefix(8)) else {
                                return .gap
                            }
                            members.append(ChangeJournal.digest(member))
                            return .walked
                        }
                    }
                    guard walk.reach == .whole, let inner = descend(bytes, place) else { return .walked }
                    var childBytes = directoryBytes
                    if childBytes.last != 0x2F { childBytes.append(0x2F) }
                    childBytes += bytes
                    // The same directory as in the previous walk (its inode, as readdir says), unchanged: taken.
                    if let earlier, let child = before[Array(bytes)],
                        earlier.tree.directories[child].inode == entryInode, earlier.marks.unchanged(child)
                    {
                        return subdirectory(
                            earlier.at(child), path: &childBytes, depth: depth + 1, place: inner, &walk, &tree,
                            descend, visit)
                    }
                    let childPath = Self.childPath(path, bytes)
                    guard depth < depthLimit else {
                        if walk.tooDeep == nil { walk.tooDeep = childPath }
                        return .walked
                    }
                    let child = name.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) {
                        openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    }
                    guard child >= 0 else {
                        let code = errno
                        // Gone since it was listed, or replaced by a symlink: nothing was left unseen.
                        if code == ENOENT || code == ELOOP { return .walked }
                        issues.append(.unreadable(source, HostReadError(path: childPath, errno: code)))
                        return .gap
                    }
                    let previous = earlier.flatMap { earlier in before[Array(bytes)].map { earlier.at($0) } }
                    return read(
                        child, path: childPath, bytes: childBytes, name: bytes, position: count, depth: depth + 1,
                        place: inner, earlier: previous, &walk, &tree, descend, visit)
                }
            }
            switch outcome {
            case .spent: return .spent
            case .gap, .enteredAlready: troubled = true
            case .walked: break
            }
        }
        tree.close(
            index, key: troubled ? nil : key.map { ChangeJournal.digest($0) }, members: members, entryCount: count)
        return .walked
    }

    /// The journal's key for the entry `name` of the open directory `fd`, on the file system `fileSystem`.
    private func fileKey(_ fd: Int32, _ name: UnsafePointer<UInt8>, fileSystem: ArraySlice<UInt8>) -> ChangeJournal.Key?
    {
        var handle = [UInt8](repeating: 0, count: 4 + 128)
        let length = name.withMemoryRebound(to: CChar.self, capacity: 1) {
            tenken_file_handle_at(fd, $0, &handle, Int32(handle.count))
        }
        guard length > 0 else { return nil }
        return Array(fileSystem) + handle[0..<Int(length)]
    }

    /// The journal's key for an open directory, marking its file system on first sight; nil when
    /// that file system cannot be journaled.
    private mutating func journalKey(_ fd: Int32, device: UInt64) -> ChangeJournal.Key? {
        guard var memory else { return nil }
        defer { self.memory = memory }
        let fileSystem: (id: [UInt8], journaled: Bool)
        if let known = memory.fileSystems[device] {
            fileSystem = known
        } else {
            var id = [UInt8](repeating: 0, count: 8)
            let named = tenken_file_system_id(fd, &id) == 0
            fileSystem = (id, named && memory.journal?.mark(fd, fileSystem: id) == true)
            memory.fileSystems[device] = fileSystem
        }
        guard fileSystem.journaled else { return nil }
        var handle = [UInt8](repeating: 0, count: 4 + 128)
        let length = tenken_file_handle(fd, &handle, Int32(handle.count))
        guard length > 0 else { return nil }
        return fileSystem.id + handle[0..<Int(length)]
    }

    private enum Admission { case walk, skip, outOfTime }

    /// Whether the directory `fd` is read: its file system's kind and the policy decide, once per
    /// device; a network file system only until its time is up (an issue says where it stopped).
    private mutating func admission(_ fd: Int32, device: UInt64, path: String, bytes: [UInt8]) -> Admission {
        guard let policy = fileSystemPolicy else { return .walk }
        if !excludedPaths.isEmpty, excludedPaths.contains(bytes) {
            fileSystemsMet.append(MetFileSystem(path: path, type: "", treatment: .excluded))
            return .skip
        }
        if let known = devices[device] {
            guard known.admitted else { return .skip }
            guard let deadline = known.deadline else { return .walk }
            guard Self.monotonicSeconds() > deadline else { return .walk }
            if deadline > 0 {
                devices[device] = (true, 0)
                issues.append(
                    FactIssue(
                        source, .error, .cutShort, path: path,
                        Localized(
                            ja: "\(path): ネットワークファイルシステムの走査が \(policy.networkSeconds) 秒を超えたため打ち切りました",
                            en: "\(path): stopped walking a network file system after \(policy.networkSeconds) s")))
            }
            return .outOfTime
        }
        guard let (kind, name) = FileSystemKind.of(fd) else {
            // Its kind unknown, it is walked: reading too much costs time, reading too little sight.
            issues.append(.unreadable(source, HostReadError(path: path, errno: errno), level: .limited))
            devices[device] = (true, nil)
            return .walk
        }
        let treatment: MetFileSystem.Treatment
        switch kind {
        case .pseudo: treatment = .pseudo
        case .network: treatment = policy.walksNetwork ? .walked : .networkExcluded
        case .local: treatment = .walked
        }
        fileSystemsMet.append(MetFileSystem(path: path, type: name, treatment: treatment))
        let deadline = kind == .network ? Self.monotonicSeconds() + UInt64(max(0, policy.networkSeconds)) + 1 : nil
        devices[device] = (treatment == .walked, deadline)
        return treatment == .walked ? .walk : .skip
    }

    private static func monotonicSeconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec)
    }

    private func isDotOrDotDot(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        name.count <= 2 && name.allSatisfy { $0 == 0x2E }
    }

    /// What an entry is when readdir does not say (some file systems never do); nil when it is gone,
    /// or cannot be looked at, which is a gap.
    private mutating func kindByStat(
        _ fd: Int32, _ name: UnsafePointer<UInt8>, path: String, _ bytes: UnsafeBufferPointer<UInt8>
    ) -> Directory.EntryKind? {
        var info = stat()
        let looked = name.withMemoryRebound(to: CChar.self, capacity: 1) { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }
        guard looked == 0 else {
            let code = errno
            if code != ENOENT {
                issues.append(.unreadable(source, HostReadError(path: Self.childPath(path, bytes), errno: code)))
            }
            return nil
        }
        return Directory.EntryKind(mode: info.st_mode)
    }

    /// The display path of an entry of the directory at `path`.
    private static func childPath(_ path: String, _ name: UnsafeBufferPointer<UInt8>) -> String {
        (path.hasSuffix("/") ? path : path + "/") + ByteText.display(ArraySlice(name))
    }
}
