import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// Walks directory trees under a root as `find -P` does, without making an object per entry: symlinks
/// are never followed, no directory is entered twice (a bind mount of a parent, starts that overlap),
/// and what stops a walk short becomes an issue naming the path: a directory that cannot be read, the
/// entry bound or the depth bound. Names stay raw bytes, so a name that is not UTF-8 is walked too.
struct TreeWalk {
    /// How far below a start the walk goes.
    enum Reach {
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

    let root: HostRoot
    let source: FactSource
    let entryLimit: Int
    let depthLimit: Int
    private(set) var issues: [FactIssue] = []
    private var entered = Set<DirectoryIdentity>()

    private struct DirectoryIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    init(root: HostRoot, source: FactSource, entryLimit: Int, depthLimit: Int) {
        self.root = root
        self.source = source
        self.entryLimit = entryLimit
        self.depthLimit = depthLimit
    }

    /// Walks `start` (missing: nothing to walk). `descend` says whether, and as what place, a
    /// subdirectory is walked; `visit` gets every other entry with the place it was found in.
    mutating func walk<Place>(
        _ start: HostPath, reach: Reach, place: Place,
        descend: (UnsafeBufferPointer<UInt8>, Place) -> Place?, visit: (Entry, Place) -> Void
    ) {
        let fd: Int32
        do {
            fd = try root.open(start, flags: O_RDONLY | O_DIRECTORY)
        } catch {
            if !(error.isNotFound || error.reason == .notADirectory) { issues.append(.unreadable(source, error)) }
            return
        }
        var walk = Progress(budget: entryLimit, reach: reach, start: start.display)
        walkDirectory(
            fd, path: start.display, bytes: start.bytes, depth: 1, place: place, &walk, descend: descend, visit: visit)
        if walk.budget < 0 {
            issues.append(
                FactIssue(
                    source, .error, .cutShort, path: walk.start,
                    Localized(
                        ja: "\(walk.start): 項目が多すぎるため \(entryLimit) 件で走査を打ち切りました",
                        en: "\(walk.start): stopped after \(entryLimit) entries")))
        }
        if let deeper = walk.tooDeep {
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

    /// Reads one open directory (and closes it), then the subdirectories `descend` accepts.
    /// Returns false when the entry budget is spent, which ends the whole walk.
    @discardableResult
    private mutating func walkDirectory<Place>(
        _ fd: Int32, path: String, bytes directoryBytes: [UInt8], depth: Int, place: Place, _ walk: inout Progress,
        descend: (UnsafeBufferPointer<UInt8>, Place) -> Place?, visit: (Entry, Place) -> Void
    ) -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            issues.append(.unreadable(source, HostReadError(path: path, errno: code)))
            return true
        }
        guard entered.insert(DirectoryIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else {
            close(fd)
            return true
        }
        guard let stream = fdopendir(fd) else {
            let code = errno
            close(fd)
            issues.append(.unreadable(source, HostReadError(path: path, errno: code)))
            return true
        }
        defer { closedir(stream) }
        while true {
            // readdir says "no more" and "failed" alike; only errno tells them apart.
            errno = 0
            guard let raw = readdir(stream) else {
                let code = errno
                if code != 0 { issues.append(.unreadable(source, HostReadError(path: path, errno: code))) }
                return true
            }
            walk.budget -= 1
            if walk.budget < 0 { return false }
            let type = raw.pointee.d_type
            let keepGoing = withUnsafePointer(to: &raw.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: UInt8.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    name -> Bool in
                    let bytes = UnsafeBufferPointer(start: name, count: strlen(UnsafeRawPointer(name)))
                    if isDotOrDotDot(bytes) { return true }
                    guard let kind = Directory.EntryKind(direntType: type) ?? kindByStat(fd, name, path: path, bytes)
                    else { return true }
                    guard kind == .directory else {
                        visit(
                            Entry(
                                name: bytes, kind: kind, directory: path, directoryBytes: directoryBytes,
                                directoryFD: fd),
                            place)
                        return true
                    }
                    guard walk.reach == .whole, let inner = descend(bytes, place) else { return true }
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
                            issues.append(.unreadable(source, HostReadError(path: childPath, errno: code)))
                        }
                        return true
                    }
                    let childBytes = (directoryBytes.last == 0x2F ? directoryBytes : directoryBytes + [0x2F]) + bytes
                    return walkDirectory(
                        child, path: childPath, bytes: childBytes, depth: depth + 1, place: inner, &walk,
                        descend: descend, visit: visit)
                }
            }
            if !keepGoing { return false }
        }
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
