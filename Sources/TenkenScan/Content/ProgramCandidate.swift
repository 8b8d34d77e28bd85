import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// What identifies one version of a file: if none of these changed, neither did its content
/// (a write changes mtime and ctime; setting mtime back still moves ctime).
public struct FileIdentity: Sendable, Hashable, Codable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int
    /// Nanoseconds since the epoch.
    public let modified: Int64
    public let changed: Int64

    init(device: UInt64, inode: UInt64, size: Int, modified: Int64, changed: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        modified = Self.nanoseconds(info.st_mtim)
        changed = Self.nanoseconds(info.st_ctim)
    }

    /// Saturating: a file may carry any time (`touch -d 2300-01-01`), past what 64-bit
    /// nanoseconds hold; such times only ever compare as "later".
    private static func nanoseconds(_ time: timespec) -> Int64 {
        let (whole, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return time.tv_sec < 0 ? Int64.min : Int64.max }
        let (total, late) = whole.addingReportingOverflow(Int64(time.tv_nsec))
        return late ? Int64.max : total
    }
}

/// A file the walk found that may be a program: one whose first bytes say it is or holds one, a
/// regular file with an execute bit, or a symlink in a PATH directory (whose target is inspected).
public struct ProgramCandidate: Sendable {
    /// The path under the root, as bytes, to open it again.
    public let path: HostPath
    public let file: ExecutableFile
    /// nil for a symlink: what it points to is looked at when it is inspected.
    public let identity: FileIdentity?
    /// The package that lists it, when it changed since dpkg wrote that package's records; nil:
    /// no package owns it.
    public let owner: Owner?

    /// A package's file, as its md5sums name it.
    public struct Owner: Sendable, Hashable {
        /// The list's name: "bash", or "libc6:amd64" for a multi-arch package.
        public let package: String
        /// The path as the package lists it (under /bin on merged /usr).
        public let listedAs: [UInt8]
    }

    public init(path: HostPath, file: ExecutableFile, identity: FileIdentity?, owner: Owner? = nil) {
        self.path = path
        self.file = file
        self.identity = identity
        self.owner = owner
    }
}
