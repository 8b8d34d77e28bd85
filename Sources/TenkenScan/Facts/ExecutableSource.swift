import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// A file found where programs live: PATH directories, /opt, home directories and the other trees
/// users write to, and the drive_c of Wine prefixes (Windows .exe files).
public struct ExecutableFile: Sendable, Hashable {
    /// Which kind of place the file was found in: a PATH directory, /opt, a home directory or a Wine prefix.
    public enum Location: String, Sendable, Codable {
        case systemPath = "system-path"
        case opt, home
        case winePrefix = "wine-prefix"
        /// /usr/local, /srv and the temporary directories.
        case other
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

/// Finds program files by walking every tree a user can put a program in: each home directory and
/// /opt, /usr/local, /srv, /tmp, /var/tmp and /dev/shm all the way down (Wine prefixes, Flatpak and
/// Snap data and nested tool folders included, wherever they are), and the PATH directories' own
/// entries. Only files whose names the policy asks about are kept, so a home of millions of files
/// costs time, not memory.
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
    /// Where packages put programs that are not on the PATH: walked whole for programs no
    /// package owns (`make install`, a copy), which are inspected by content. Names alone are not
    /// looked for there: the files of an installed package are its package's business.
    public static let packageTrees = ["/usr/lib", "/usr/libexec"]
    /// A bound on any one walk, so a hostile tree cannot make the scan run forever (the request
    /// may set another); reaching it leaves the walk incomplete.
    static let maximumEntriesPerWalk = 10_000_000
    /// Levels below a start: deeper than any real install (Wine's per-user AppData sits about 15
    /// below a home); a tree deeper than this is a gap, not a pass.
    static let maximumDepth = 64

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
    }

    static func collect(_ root: HostRoot, request: HostFacts.Request, into facts: inout HostFacts) {
        let wanted = ProgramNameFilter(request.programNames)
        let inspecting = request.content.map { !$0.isEmpty } ?? false
        let entryLimit = request.walkEntryLimit ?? maximumEntriesPerWalk
        let fingerprint =
            [root.path, String(inspecting), String(entryLimit)] + (request.programNames.map { $0.sorted() } ?? ["*"])
        let now = request.now > 0 ? request.now : Timestamp.seconds()
        let remembered = request.memory?.walkMemory(fingerprint: fingerprint, now: now)
        var walk = TreeWalk<WalkRecord>(
            root: root, source: .files, entryLimit: entryLimit, depthLimit: maximumDepth, memory: remembered?.memory)
        var unseen: [HostReadError] = []
        // /usr/local/bin is walked with /usr/local, yet its symlinks are commands all the same.
        let onPath = Set(systemPaths)
        var keepingNames = true
        // A file with several names can change through a name in a directory the walk does not
        // read: the walk has the journal watch the file itself.
        func visit(_ entry: TreeWalk<WalkRecord>.Entry, _ location: ExecutableFile.Location, _ made: inout [WalkRecord])
            -> TreeWalk<WalkRecord>.Sight
        {
            guard entry.kind == .file || entry.kind == .symlink else { return .seen }
            let named = keepingNames && wanted.keeps(entry.name)
            let look =
                inspecting
                ? programCandidate(entry, onPath: onPath.contains(entry.directory)) : .notAProgram(single: true)
            if case .notAProgram(let single) = look, !named { return single ? .seen : .severalNames }
            let file = ExecutableFile(
                directory: entry.directory, name: FileName(bytes: Array(entry.name)), location: location)
            if named { made.append(.named(file)) }
            switch look {
            case .notAProgram(let single): return single ? .seen : .severalNames
            case .program(let identity, let single):
                let path = HostPath(bytes: entry.directoryBytes).appending(file.name)
                made.append(.candidate(ProgramCandidate(path: path, file: file, identity: identity)))
                return single ? .seen : .severalNames
            case .unseen(let code):
                unseen.append(HostReadError(path: file.path, errno: code))
                return .unseen
            }
        }
        // A directory is entered once: the whole trees first, so the PATH walk does not claim
        // /usr/local/bin before the walk of /usr/local can look below it.
        for home in facts.homes {
            walk.walk(home.location, reach: .whole, place: .home, descend: enterWinePrefix, visit: visit)
        }
        for tree in wholeTrees {
            walk.walk(HostPath(tree.path), reach: .whole, place: tree.location, descend: enterWinePrefix, visit: visit)
        }
        for path in systemPaths {
            // /bin on merged-/usr systems is /usr/bin, already entered: it is not listed twice.
            // /usr/games is on the PATH and packages install below it: walked whole, so what is
            // below is seen (a later walk of it as a package tree would find it entered).
            let reach: TreeWalk<WalkRecord>.Reach = path == "/usr/games" ? .whole : .entries
            walk.walk(HostPath(path), reach: reach, place: .systemPath, descend: enterWinePrefix, visit: visit)
        }
        if inspecting {
            keepingNames = false
            for path in packageTrees {
                walk.walk(HostPath(path), reach: .whole, place: .other, descend: enterWinePrefix, visit: visit)
            }
        }
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
            fullWalk: remembered.map { $0.fullWalk } ?? "no memory")
        facts.issues += walk.issues + unseen.map { .unreadable(.files, $0) }
    }

    /// What the walk learned of an entry as a program to look inside.
    /// `single`: false for a file with more than one name.
    private enum Look {
        case notAProgram(single: Bool)
        /// nil for a symlink: its target is looked at when inspected.
        case program(FileIdentity?, single: Bool)
        /// It could not be looked at (errno): what it is stays unknown, which is a gap.
        case unseen(Int32)
    }

    /// Whether an entry may be a program to look inside: a regular file with an execute bit,
    /// or a Windows program or AppImage, which run without one. A symlink counts only in a PATH
    /// directory, where it is a command (elsewhere its target is walked, or is not a program's
    /// place).
    private static func programCandidate(_ entry: TreeWalk<WalkRecord>.Entry, onPath: Bool) -> Look {
        if entry.kind == .symlink { return onPath ? .program(nil, single: true) : .notAProgram(single: true) }
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
        guard (info.st_mode & S_IFMT) == S_IFREG,
            info.st_mode & 0o111 != 0 || ProgramNameFilter.runsWithoutExecuteBit(entry.name)
        else { return .notAProgram(single: single) }
        return .program(FileIdentity(info), single: single)
    }

    /// Below a `drive_c`, files are Windows programs of a Wine prefix, wherever the prefix lives
    /// (~/.wine, Bottles under ~/.var/app, PlayOnLinux, a snap's home).
    private static func enterWinePrefix(
        _ name: UnsafeBufferPointer<UInt8>, _ location: ExecutableFile.Location
    ) -> ExecutableFile.Location? {
        name.elementsEqual("drive_c".utf8) ? .winePrefix : location
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
