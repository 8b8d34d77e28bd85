import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// A file the walk of the root's file systems found: by its name in the places programs are
/// kept (PATH directories, /opt, home directories, the trees users write to, the drive_c of Wine
/// prefixes), or anywhere by what it is.
public struct ExecutableFile: Sendable, Hashable {
    /// Which kind of place the file was found in: a PATH directory, /opt, a home directory or a Wine prefix.
    public enum Location: String, Sendable, Codable {
        case systemPath = "system-path"
        case opt, home
        case winePrefix = "wine-prefix"
        /// /usr/local, /srv and the temporary directories.
        case other
        /// Anywhere else on the root's file systems (/usr/lib, /var, /mnt, /media, /boot, ...):
        /// only what a file is counts there, not its name.
        case system
    }

    /// The directory, as shown in evidence; the full path is built only when a file is reported.
    public let directory: String
    public let name: FileName
    public let location: Location

    public init(directory: String, name: FileName, location: Location) {
        self.directory = directory
        self.name = name
        self.location = location
    }

    public var path: String { directory.hasSuffix("/") ? directory + name.display : directory + "/" + name.display }
}

/// Finds programs by walking every file system under the root that stores files (removable media,
/// container layers and network file systems as the policy says included; the kernel's pseudo
/// file systems never). In the places programs are kept (each home, /opt, /usr/local, /srv, the
/// temporary directories and the PATH) files whose names the policy asks about are kept; and
/// everywhere, every file no package vouches for is classified by its first bytes (`FileMagic`),
/// and those that are or hold programs are kept for inspection, whatever their name or mode. A
/// file a package owns counts as its package's only while nothing changed it since dpkg wrote
/// the package's records (`OwnedPathIndex`). Only what is kept costs memory.
public enum ExecutableSource {
    public static let systemPaths = [
        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
        "/usr/games", "/usr/local/games", "/snap/bin",
    ]
    /// Trees outside the homes that users and installers drop programs into, walked whole.
    public static let wholeTrees: [(path: String, location: ExecutableFile.Location)] = [
        ("/opt", .opt), ("/usr/local", .other), ("/srv", .other), ("/tmp", .other), ("/var/tmp", .other),
        ("/dev/shm", .other),
    ]
    /// A bound on any one walk, so a hostile tree cannot make the scan run forever (the request
    /// may set another); reaching it leaves the walk incomplete.
    static let maximumEntriesPerWalk = 10_000_000
    /// Levels below the root: deeper than any real install (Wine's per-user AppData sits about 15
    /// below a home, a container layer's files about 10 below /var/lib/docker); a tree deeper
    /// than this is a gap, not a pass.
    static let maximumDepth = 72

    /// What the walk makes of one entry, kept with its directory for the next walk (the agent's).
    enum WalkRecord: Sendable {
        /// A file whose name the policy asks about.
        case named(ExecutableFile)
        /// A program to look inside.
        case candidate(ProgramCandidate)
    }

    /// How a walk went, for the benchmark and the README.
    public struct Counts: Sendable {
        public internal(set) var directoriesRead = 0
        /// Directories taken from the agent's memory without being read (the journal saw no change in them).
        public internal(set) var directoriesTaken = 0
        /// Why every directory was read although the agent keeps a memory; nil: only changes were read.
        public internal(set) var fullWalk: String?
        /// Files a package owns that nothing changed since dpkg wrote its records: not read.
        public internal(set) var ownedUnchanged = 0
        /// Files whose first bytes were read to say what they are.
        public internal(set) var headsRead = 0
        /// Whether dpkg's file lists were read (not kept from the previous check).
        public internal(set) var dpkgListsRead = false
    }

    static func collect(_ root: HostRoot, request: HostFacts.Request, into facts: inout HostFacts) {
        let wanted = ProgramNameFilter(request.programNames)
        let inspecting = request.content.map { !$0.isEmpty } ?? false
        let entryLimit = request.walkEntryLimit ?? maximumEntriesPerWalk
        let now = request.now > 0 ? request.now : Timestamp.seconds()
        let fingerprint =
            [root.path, String(inspecting), String(entryLimit), String(describing: request.fileSystems)]
            + (request.programNames.map { $0.sorted() } ?? ["*"])
        // The journal is drained first, so what it says of dpkg's records is up to date.
        var remembered = request.memory?.walkMemory(fingerprint: fingerprint, now: now)
        var listsRead = false
        let owned =
            inspecting ? ownedPaths(root, request: request, now: now, read: &listsRead, issues: &facts.issues) : nil
        facts.ownedPaths = owned
        // What dpkg's records vouch for decides what the walk keeps: changed, everything is read again.
        if let memory = request.memory, var walking = remembered, walking.fullWalk == nil,
            memory.kept("dpkg-owned-digest", as: String.self) != owned?.digest
        {
            walking.memory.previous = [:]
            walking.memory.touched = IdentitySet()
            walking.fullWalk = "dpkg's records changed"
            remembered = walking
        }
        request.memory?.keep("dpkg-owned-digest", owned?.digest ?? "")
        var walk = TreeWalk<WalkRecord>(
            root: root, source: .files, entryLimit: entryLimit, depthLimit: maximumDepth, memory: remembered?.memory,
            fileSystems: request.fileSystems)
        var ownedUnchanged = 0
        var headsRead = 0
        var unseen: [HostReadError] = []
        // /usr/local/bin is walked with /usr/local, yet its symlinks are commands all the same.
        let onPath = Set(systemPaths)
        // A file with several names can change through a name in a directory the walk does not
        // read: the walk has the journal watch the file itself.
        func visit(_ entry: TreeWalk<WalkRecord>.Entry, _ location: ExecutableFile.Location, _ made: inout [WalkRecord])
            -> TreeWalk<WalkRecord>.Sight
        {
            guard entry.kind == .file || entry.kind == .symlink else { return .seen }
            let named = location != .system && wanted.keeps(entry.name)
            let look =
                inspecting
                ? programCandidate(
                    entry, onPath: onPath.contains(entry.directory), owned: owned, ownedUnchanged: &ownedUnchanged,
                    headsRead: &headsRead)
                : .notAProgram(single: true)
            if case .notAProgram(let single) = look, !named { return single ? .seen : .severalNames }
            let file = ExecutableFile(
                directory: entry.directory, name: FileName(bytes: Array(entry.name)), location: location)
            if named { made.append(.named(file)) }
            switch look {
            case .notAProgram(let single): return single ? .seen : .severalNames
            case .program(let identity, let owner, let single):
                let path = HostPath(bytes: entry.directoryBytes).appending(file.name)
                made.append(.candidate(ProgramCandidate(path: path, file: file, identity: identity, owner: owner)))
                return single ? .seen : .severalNames
            case .unseen(let code):
                unseen.append(HostReadError(path: file.path, errno: code))
                return .unseen
            }
        }
        // One walk from the root: the places are told apart by path, so every directory is read once.
        let places = WalkPlaces(homes: canonicalHomes(root, facts.homes), everywhere: inspecting)
        walk.walk(
            HostPath("/"), reach: .whole, place: places.start, descend: places.descend,
            visit: { entry, place, made in visit(entry, place.location, &made) })
        if let memory = request.memory, let remembered {
            memory.keep(
                walk, fingerprint: fingerprint, mountTable: remembered.mountTable, fullWalk: remembered.fullWalk != nil,
                now: now)
        }
        var found: [ExecutableFile] = []
        var candidates: [ProgramCandidate] = []
        for record in walk.records {
            switch record {
            case .named(let file): found.append(file)
            case .candidate(let candidate): candidates.append(candidate)
            }
        }
        facts.executables = found
        facts.programCandidates = candidates
        facts.walkCounts = Counts(
            directoriesRead: walk.directoriesRead, directoriesTaken: walk.directoriesTaken,
            fullWalk: remembered.map { $0.fullWalk } ?? "no memory", ownedUnchanged: ownedUnchanged,
            headsRead: headsRead, dpkgListsRead: listsRead)
        facts.fileSystemsMet = walk.fileSystemsMet
        facts.issues += walk.issues + unseen.map { .unreadable(.files, $0) }
    }

    /// What the walk learned of an entry as a program to look inside.
    /// `single`: false for a file with more than one name.
    private enum Look {
        case notAProgram(single: Bool)
        /// nil for a symlink: its target is looked at when inspected. `owner`: the package whose
        /// file it is, changed since dpkg wrote its records (its md5sum says whether it is still its).
        case program(FileIdentity?, owner: ProgramCandidate.Owner?, single: Bool)
        /// It could not be looked at (errno): what it is stays unknown, which is a gap.
        case unseen(Int32)
    }

    /// Whether an entry may be a program to look inside. A file its package vouches for (owned,
    /// not changed since dpkg wrote the package's records) is not read. Any other regular file
    /// is one when its first bytes say it is or holds a program (`FileMagic`), or it has an
    /// execute bit. A symlink counts only in a PATH directory, where it is a command (elsewhere
    /// its target is walked, or is not a program's place).
    private static func programCandidate(
        _ entry: TreeWalk<WalkRecord>.Entry, onPath: Bool, owned: OwnedPathIndex?, ownedUnchanged: inout Int,
        headsRead: inout Int
    ) -> Look {
        if entry.kind == .symlink {
            return onPath ? .program(nil, owner: nil, single: true) : .notAProgram(single: true)
        }
        guard entry.kind == .file else { return .notAProgram(single: true) }
        var info = stat()
        let looked = entry.name.withMemoryRebound(to: CChar.self) { name -> Int32 in
            // The name in readdir's buffer ends with its NUL.
            fstatat(entry.directoryFD, name.baseAddress!, &info, AT_SYMLINK_NOFOLLOW)
        }
        guard looked == 0 else {
            // Gone since it was listed: nothing to inspect.
            return errno == ENOENT ? .notAProgram(single: true) : .unseen(errno)
        }
        let single = info.st_nlink <= 1 || (info.st_mode & S_IFMT) != S_IFREG
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .notAProgram(single: single) }
        var owner: ProgramCandidate.Owner?
        if let owned, let listed = owned.entry(directory: entry.directoryBytes, name: entry.name) {
            let package = owned.package(of: listed)
            if let trusted = package.trustedUntil, Int(info.st_ctim.tv_sec) <= trusted {
                ownedUnchanged += 1
                return .notAProgram(single: single)
            }
            let found = owned.owner(of: listed)
            owner = ProgramCandidate.Owner(package: package.name, listedAs: found.listedAs)
        }
        let identity = FileIdentity(info)
        if info.st_mode & 0o111 != 0 || ProgramNameFilter.runsWithoutExecuteBit(entry.name) {
            return .program(identity, owner: owner, single: single)
        }
        guard Int(info.st_size) >= FileMagic.minimumSize else { return .notAProgram(single: single) }
        headsRead += 1
        switch FileHead.read(entry.directoryFD, entry.name, identity: identity) {
        case .read(let head):
            return FileMagic(head).holdsProgram
                ? .program(identity, owner: owner, single: single) : .notAProgram(single: single)
        case .gone: return .notAProgram(single: single)
        case .failed(let code): return .unseen(code)
        }
    }

    /// The files dpkg's records vouch for: the agent keeps them while its journal says nothing
    /// in /var/lib/dpkg changed.
    private static func ownedPaths(
        _ root: HostRoot, request: HostFacts.Request, now: Int, read: inout Bool, issues: inout [FactIssue]
    ) -> OwnedPathIndex {
        if let memory = request.memory, let kept = memory.kept(OwnedPathIndex.slot, as: OwnedPathIndex.self),
            memory.unchanged(root, directory: "/var/lib/dpkg"),
            memory.unchanged(root, directory: DpkgFileOwnership.infoPath)
        {
            memory.keep(OwnedPathIndex.slot, kept)
            return kept
        }
        read = true
        var found: [FactIssue] = []
        let index = OwnedPathIndex(root, now: now, issues: &found)
        issues += found
        if !index.birthTimesKnown {
            issues.append(
                FactIssue(
                    .content, .limited, .unreadable, path: DpkgFileOwnership.infoPath,
                    Localized(
                        ja:
                            "\(DpkgFileOwnership.infoPath): このファイルシステムは作成日時を記録しないため、パッケージのファイルは dpkg の記録の更新日時で照合しています (touch で動かせます)",
                        en:
                            "\(DpkgFileOwnership.infoPath): its file system records no creation times, so packages' files are vouched for by the change times of dpkg's records, which touch can move"
                    )))
        }
        if found.isEmpty { request.memory?.keep(OwnedPathIndex.slot, index) }
        return index
    }

    /// Each home as the kernel names it (a home reached through a symlink is walked where it is);
    /// the root itself is no home to keep names in.
    private static func canonicalHomes(_ root: HostRoot, _ homes: [HomeDirectory]) -> [HostPath] {
        homes.compactMap { home in
            guard let fd = try? root.open(home.location, flags: O_RDONLY | O_DIRECTORY) else { return nil }
            defer { close(fd) }
            guard let path = root.pathUnderRoot(of: fd), path.bytes != [0x2F] else { return nil }
            return path
        }
    }
}

/// Which file names a walk keeps: those the policy's catalog names (ASCII case-insensitively),
/// and every AppImage, whose program name is only the start of its file name; all names when the
/// request names none (nil).
struct ProgramNameFilter {
    private let names: Set<String>?
    private let lengths: Set<Int>

    init(_ names: Set<String>?) {
        self.names = names.map {
            Set($0.map { String(decoding: ByteText.asciiLowercased(Array($0.utf8)), as: UTF8.self) })
        }
        lengths = Set((names ?? []).map(\.utf8.count))
    }

    func keeps(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let names else { return true }
        if Self.hasAppImageSuffix(name) { return true }
        // Most names have a length no catalog name has: no string is made for them.
        guard lengths.contains(name.count) else { return false }
        return names.contains(String(decoding: name.lazy.map(Self.lowercased), as: UTF8.self))
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    private static let appImageSuffix = Array(".appimage".utf8)
    private static let windowsSuffix = Array(".exe".utf8)

    /// Windows programs (run by Wine) and AppImages (run by a user's `chmod +x` later) are
    /// programs without an execute bit.
    static func runsWithoutExecuteBit(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        hasAppImageSuffix(name) || hasSuffix(name, windowsSuffix)
    }

    private static func hasSuffix(_ name: UnsafeBufferPointer<UInt8>, _ suffix: [UInt8]) -> Bool {
        guard name.count > suffix.count else { return false }
        return zip(name.suffix(suffix.count), suffix).allSatisfy { lowercased($0) == $1 }
    }

    private static func hasAppImageSuffix(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.count > appImageSuffix.count else { return false }
        return zip(name.suffix(appImageSuffix.count), appImageSuffix).allSatisfy { lowercased($0) == $1 }
    }
}
