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
    public static let packageTrees = ["/usr/lib", "/usr/libexec", "/usr/games"]
    /// A bound on any one walk, so a hostile tree cannot make the scan run forever (the request
    /// may set another); reaching it leaves the walk incomplete.
    static let maximumEntriesPerWalk = 10_000_000
    /// Levels below a start: deeper than any real install (Wine's per-user AppData sits about 15
    /// below a home); a tree deeper than this is a gap, not a pass.
    static let maximumDepth = 64

    static func collect(_ root: HostRoot, request: HostFacts.Request, into facts: inout HostFacts) {
        var walk = TreeWalk(
            root: root, source: .files, entryLimit: request.walkEntryLimit ?? maximumEntriesPerWalk,
            depthLimit: maximumDepth)
        let wanted = ProgramNameFilter(request.programNames)
        let inspecting = request.content.map { !$0.isEmpty } ?? false
        var found: [ExecutableFile] = []
        var candidates: [ProgramCandidate] = []
        var unseen: [HostReadError] = []
        // /usr/local/bin is walked with /usr/local, yet its symlinks are commands all the same.
        let onPath = Set(systemPaths)
        var keepingNames = true
        func visit(_ entry: TreeWalk.Entry, _ location: ExecutableFile.Location) {
            guard entry.kind == .file || entry.kind == .symlink else { return }
            let named = keepingNames && wanted.keeps(entry.name)
            let look = inspecting ? programCandidate(entry, onPath: onPath.contains(entry.directory)) : .notAProgram
            if case .notAProgram = look, !named { return }
            let file = ExecutableFile(
                directory: entry.directory, name: FileName(bytes: Array(entry.name)), location: location)
            if named { found.append(file) }
            let path = HostPath(bytes: entry.directoryBytes).appending(file.name)
            switch look {
            case .notAProgram: break
            case .program(let identity): candidates.append(ProgramCandidate(path: path, file: file, identity: identity))
            case .unseen(let code): unseen.append(HostReadError(path: file.path, errno: code))
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
            walk.walk(HostPath(path), reach: .entries, place: .systemPath, descend: { _, _ in nil }, visit: visit)
        }
        if inspecting {
            keepingNames = false
            for path in packageTrees {
                walk.walk(HostPath(path), reach: .whole, place: .other, descend: enterWinePrefix, visit: visit)
            }
        }
        facts.executables = found
        facts.programCandidates = candidates
        facts.issues += walk.issues + unseen.map { .unreadable(.files, $0) }
    }

    /// What the walk learned of an entry as a program to look inside.
    private enum Look {
        case notAProgram
        /// nil for a symlink: its target is looked at when inspected.
        case program(FileIdentity?)
        /// It could not be looked at (errno): what it is stays unknown, which is a gap.
        case unseen(Int32)
    }

    /// Whether an entry may be a program to look inside: a regular file with an execute bit,
    /// or a Windows program or AppImage, which run without one. A symlink counts only in a PATH
    /// directory, where it is a command (elsewhere its target is walked, or is not a program's
    /// place).
    private static func programCandidate(_ entry: TreeWalk.Entry, onPath: Bool) -> Look {
        if entry.kind == .symlink { return onPath ? .program(nil) : .notAProgram }
        guard entry.kind == .file else { return .notAProgram }
        var info = stat()
        let looked = entry.name.withMemoryRebound(to: CChar.self) { name -> Int32 in
            // The name in readdir's buffer ends with its NUL.
            fstatat(entry.directoryFD, name.baseAddress!, &info, AT_SYMLINK_NOFOLLOW)
        }
        guard looked == 0 else {
            // Gone since it was listed: nothing to inspect.
            return errno == ENOENT ? .notAProgram : .unseen(errno)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG,
            info.st_mode & 0o111 != 0 || ProgramNameFilter.runsWithoutExecuteBit(entry.name)
        else { return .notAProgram }
        return .program(FileIdentity(info))
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
