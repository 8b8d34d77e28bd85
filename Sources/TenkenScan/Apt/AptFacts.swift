/// What the root's apt and dpkg state say about patching.
public struct AptFacts: Sendable {
    /// Where apt keeps its package lists, under the root.
    public static let listsPath = "/var/lib/apt/lists"

    public var listFiles: [String] = []
    public var pendingUpdates: [PendingUpdate] = []
    /// Security updates APT preferences keep from being candidates: not in apt's list, but the
    /// security rules count them.
    public var pinnedSecurityUpdates: [PendingUpdate] = []
    /// The Debian tags the lists give each installed package (any version they offer).
    public var packageTags: [String: Set<String>] = [:]
    /// Lists whose offers came from the lists cache, unparsed (for tests and the benchmark).
    public internal(set) var listsReused = 0
    /// When the package lists were last refreshed (unix seconds): apt's periodic stamp or the
    /// newest Release file.
    public var listsUpdatedAt: Int?
    public var reboot = RebootState()
    public var automaticUpdates = AutomaticUpdates()

    /// Whether a reboot is pending: the reboot-required flag and its packages, or a kernel newer than the
    /// running one.
    public struct RebootState: Sendable {
        /// /run/reboot-required exists (written by update-notifier and unattended-upgrades).
        public var flagged = false
        /// Packages named in /run/reboot-required.pkgs.
        public var packages: [String] = []
        public var runningKernel: String?
        /// The newest installed kernel, when newer than the running one.
        public var newerKernel: String?
    }

    /// Whether unattended-upgrades is installed and APT::Periodic turns it and the list updates on.
    public struct AutomaticUpdates: Sendable {
        public var packageInstalled = false
        /// APT::Periodic::Unattended-Upgrade as apt.conf(5) resolves it, with the file that set it.
        public var unattendedUpgrade: String?
        public var setIn: String?
        public var updatePackageLists: String?
    }
}
