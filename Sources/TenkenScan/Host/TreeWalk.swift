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
    private(set) var walked: [String: WalkedDirectory<Record>] = [:]
    /// False once a bound cut a walk short: such a walk is not kept.
    private(set) var complete = true
    /// Directories read and directories taken again, for the counts.
    private(set) var directoriesRead = 0
    private(set) var directoriesTaken = 0
    private var entered = Set<DirectoryIdentity>()

    private struct DirectoryIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    init(root: HostRoot, source: FactSource, entryLimit: Int, depthLimit: Int, memory: WalkMemory<Record>? = nil) {
        self.root = root
        self.source = source
        self.entryLimit = entryLimit
        self.depthLimit = depthLimit
        self.memory = memory
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
        let previous = memory?.previous[startKey]
        var info = stat()
        var node: WalkedDirectory<Record>?
        if let previous, let memory, memory.unchanged(previous), fstat(fd, &info) == 0,
            UInt64(info.st_dev) == previous.device, UInt64(info.st_ino) == previous.inode
        {
            close(fd)
            var path = start.bytes
            (_, node) = take(previous, path: &path, depth: 1, place: place, &walk, descend: descend, visit: visit)
        } else {
            (_, node) = walkDirectory(
                fd, path: start.display, bytes: start.bytes, depth: 1, place: place, previous: previous, &walk,
                descend: descend, visit: visit)
        }
        if memory != nil, let node { walked[startKey] = node }
        if walk.budget < 0 {
            complete = false
            issues.append(
                FactIssue(
                    source, .error, .cutShort, path: walk.start,
                    Localized(
                        ja: "\(walk.start): 項目が多すぎるため \(entryLimit) 件で走査を打ち切りました",
                        en: "\(walk.start): stopped after \(entryLimit) entries")))
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
    }

    /// Takes a directory of the previous walk as it was, without reading it, and does the same
    /// for each subdirectory that did not change; those that did are read. Returns false when the
    /// entry budget is spent, and the directory as this walk leaves it (nil: entered already).
    private mutating func take<Place>(
        _ node: WalkedDirectory<Record>, path: inout [UInt8], depth: Int, place: Place, _ walk: inout Progress,
        descend: Descend<Place>, visit: Visit<Place>
    ) -> (Bool, WalkedDirectory<Record>?) {
        guard entered.insert(DirectoryIdentity(device: node.device, inode: node.inode)).inserted else {
            return (true, nil)
        }
        directoriesTaken += 1
        walk.budget -= node.entryCount
        if walk.budget < 0 { return (false, nil) }
        // Copied only when a subdirectory changed.
        var items: [WalkedDirectory<Record>.Item]?
        for (index, item) in node.items.enumerated() {
            switch item {
            case .record(let record):
                records.append(record)
                items?.append(item)
            case .directory(let name, let child):
                let inner = name.withUnsafeBufferPointer { descend($0, place) }
                let length = path.count
                if path.last != 0x2F { path.append(0x2F) }
                path += name
                defer { path.removeSubrange(length...) }
                var keepGoing = true
                var now: WalkedDirectory<Record>?
                if let inner {
                    (keepGoing, now) = enter(child, path: &path, depth: depth + 1, place: inner, &walk, descend, visit)
                }
                if now !== child && items == nil { items = Array(node.items[..<index]) }
                if let now { items?.append(.directory(name: name, now)) }
                if !keepGoing { return (false, nil) }
            }
        }
        guard let items else { return (true, node) }
        return (
            true,
            WalkedDirectory(
                device: node.device, inode: node.inode, key: node.key, memberKeys: node.memberKeys,
                entryCount: node.entryCount, items: items)
        )
    }

    /// A subdirectory of a directory taken as it was: taken too if unchanged, else opened and read.
    private mutating func enter<Place>(
        _ child: WalkedDirectory<Record>, path: inout [UInt8], depth: Int, place: Place, _ walk: inout Progress,
        _ descend: Descend<Place>, _ visit: Visit<Place>
    ) -> (Bool, WalkedDirectory<Record>?) {
        guard depth <= depthLimit else {
            if walk.tooDeep == nil { walk.tooDeep = ByteText.display(path[...]) }
            return (true, nil)
        }
        if let memory, memory.unchanged(child) {
            return take(child, path: &path, depth: depth, place: place, &walk, descend: descend, visit: visit)
        }
        let display = ByteText.display(path[...])
        let fd: Int32
        do {
            fd = try root.open(HostPath(bytes: path), flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch {
            // Gone since, or replaced by a symlink: nothing was left unseen.
            if !(error.isNotFound || error.reason == .system(errno: ELOOP) || error.reason == .notADirectory) {
                issues.append(.unreadable(source, error))
            }
            return (true, nil)
        }
        return walkDirectory(
            fd, path: display, bytes: path, depth: depth, place: place, previous: child, &walk, descend: descend,
            visit: visit)
    }

    /// Reads one open directory (and closes it), then the subdirectories `descend` accepts,
    /// taking those of `previous` (the same directory in the previous walk) that did not change.
    /// Returns false when the entry budget is spent, which ends the whole walk, and the
    /// directory as read (nil: entered already, or not readable).
    private mutating func walkDirectory<Place>(
        _ fd: Int32, path: String, bytes directoryBytes: [UInt8], depth: Int, place: Place,
        previous: WalkedDirectory<Record>?, _ walk: inout Progress, descend: Descend<Place>, visit: Visit<Place>
    ) -> (Bool, WalkedDirectory<Record>?) {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            issues.append(.unreadable(source, HostReadError(path: path, errno: code)))
            return (true, nil)
        }
        let device = UInt64(info.st_dev)
        let inode = UInt64(info.st_ino)
        guard entered.insert(DirectoryIdentity(device: device, inode: inode)).inserted else {
            close(fd)
            return (true, nil)
        }
        directoriesRead += 1
        // The key is taken before the first entry is read, so a change made while reading is journaled.
        let key = memory != nil ? journalKey(fd, device: device) : nil
        let earlier = previous.flatMap { $0.device == device && $0.inode == inode ? $0.directories : nil } ?? [:]
        guard let stream = fdopendir(fd) else {
            let code = errno
            close(fd)
            issues.append(.unreadable(source, HostReadError(path: path, errno: code)))
            return (true, nil)
        }
        defer { closedir(stream) }
        var items: [WalkedDirectory<Record>.Item] = []
        var members: [ChangeJournal.Key] = []
        var count = 0
        // A gap met here (an entry not looked at, a subdirectory not read) keeps it out of the memory.
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
            if walk.budget < 0 { return (false, nil) }
            let type = raw.pointee.d_type
            let entryInode = UInt64(raw.pointee.d_ino)
            let keepGoing = withUnsafePointer(to: &raw.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: UInt8.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    name -> Bool in
                    let bytes = UnsafeBufferPointer(start: name, count: strlen(UnsafeRawPointer(name)))
                    if isDotOrDotDot(bytes) { return true }
                    guard let kind = Directory.EntryKind(direntType: type) ?? kindByStat(fd, name, path: path, bytes)
                    else {
                        troubled = true
                        return true
                    }
                    guard kind == .directory else {
                        var made: [Record] = []
                        let entry = Entry(
                            name: bytes, kind: kind, directory: path, directoryBytes: directoryBytes, directoryFD: fd)
                        switch visit(entry, place, &made) {
                        case .seen: break
                        case .unseen: troubled = true
                        case .severalNames:
                            if let key, let member = fileKey(fd, name, fileSystem: key.prefix(8)) {
                                members.append(member)
                            } else {
                                troubled = true
                            }
                        }
                        records += made
                        items += made.map { .record($0) }
                        return true
                    }
                    guard walk.reach == .whole, let inner = descend(bytes, place) else { return true }
                    let childBytes = (directoryBytes.last == 0x2F ? directoryBytes : directoryBytes + [0x2F]) + bytes
                    let childName = Array(bytes)
                    // The same directory as in the previous walk (its inode, as readdir says), unchanged: taken.
                    let before = earlier[childName].flatMap { $0.inode == entryInode ? $0 : nil }
                    if let before, let memory, memory.unchanged(before) {
                        var childPath = childBytes
                        let (keepGoing, node) = take(
                            before, path: &childPath, depth: depth + 1, place: inner, &walk, descend: descend,
                            visit: visit)
                        if let node { items.append(.directory(name: childName, node)) }
                        return keepGoing
                    }
                    let childPath = Self.childPath(path, bytes)
                    guard depth < depthLimit else {
                        if walk.tooDeep == nil { walk.tooDeep = childPath }
                        return true
                    }
                    let child = name.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) {
                        openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    }
                    guard child >= 0 else {
                        let code = errno
                        // Gone since it was listed, or replaced by a symlink: nothing was left unseen.
                        if code != ENOENT && code != ELOOP {
                            troubled = true
                            issues.append(.unreadable(source, HostReadError(path: childPath, errno: code)))
                        }
                        return true
                    }
                    let (keepGoing, node) = walkDirectory(
                        child, path: childPath, bytes: childBytes, depth: depth + 1, place: inner, previous: before,
                        &walk, descend: descend, visit: visit)
                    if let node { items.append(.directory(name: childName, node)) }
                    return keepGoing
                }
            }
            if !keepGoing { return (false, nil) }
        }
        guard memory != nil else { return (true, nil) }
        return (
            true,
            WalkedDirectory(
                device: device, inode: inode, key: troubled ? nil : key, memberKeys: members, entryCount: count,
                items: items)
        )
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
