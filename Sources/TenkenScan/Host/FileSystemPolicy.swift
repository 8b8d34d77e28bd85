import TenkenBase

/// Which of the file systems under the root a walk of it enters: every one that stores files,
/// the kernel's pseudo file systems never, network ones (NFS, SMB, FUSE, ...) as the policy
/// says and each within a time bound, and none of the paths the policy excludes.
public struct FileSystemPolicy: Sendable, Hashable {
    public var walksNetwork = true
    /// How long the walk may spend in one network file system; reaching it is a gap.
    public var networkSeconds = 300
    /// Absolute paths under the root left out of the walk, each named in the report's coverage.
    public var excluded: [String] = []

    public init(walksNetwork: Bool = true, networkSeconds: Int = 300, excluded: [String] = []) {
        self.walksNetwork = walksNetwork
        self.networkSeconds = networkSeconds
        self.excluded = excluded
    }
}

/// A file system (or an excluded path) a walk met, and what it did with it: the report's
/// coverage names each, so what was left out is never silent.
public struct MetFileSystem: Sendable, Hashable {
    /// What the walk did with it.
    public enum Treatment: String, Sendable, Hashable {
        case walked
        /// A pseudo file system (proc, sysfs, ...): nothing is stored there.
        case pseudo
        /// A network file system the policy leaves out.
        case networkExcluded = "network-excluded"
        /// A path the policy excludes.
        case excluded
    }

    /// Where the walk first met it (under the root).
    public let path: String
    /// "ext4", "nfs", "proc", ...; "" for an excluded path.
    public let type: String
    public let treatment: Treatment
}
