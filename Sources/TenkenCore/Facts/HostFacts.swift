/// Everything the sources read from one root. Sources fill it; evaluation only reads it.
public struct HostFacts: Sendable {
    public var identity = HostIdentity()
    public var dpkgAvailable = false
    public var debianPackages: [DebianPackage] = []
    public var snaps: [SnapPackage] = []
    public var flatpaks: [FlatpakApp] = []
    public var homes: [HomeDirectory] = []
    public var executables: [ExecutableFile] = []
    public var processes: [RunningProcess] = []
    public var listeningSockets: [ListeningSocket] = []
    /// Patch state; nil when the root has no dpkg database.
    public var apt: AptFacts?
    /// USB devices connected now (sysfs) and connections the journal recorded.
    public var usbDevices: [UsbDevice] = []
    public var usbHistory: [UsbConnection] = []
    public var bluetoothPairings: [BluetoothPairing] = []
    /// Host controls; nil when no rule asked for them.
    public var hostControls: HostControlFacts?
    /// ClamAV databases; nil when /var/lib/clamav does not exist.
    public var clamav: ClamAVFacts?
    /// Paths a policy asked about (catalog `paths`), with whether each exists under the root.
    public var probedPaths: [String: Bool] = [:]
    public var issues: [FactIssue] = []

    public init() {}

    /// What a policy needs beyond the fixed sources. Finding a socket's process means reading
    /// every process's fd table, so owners are looked up only where a rule can use them.
    public struct Request: Sendable {
        /// Absolute paths, or `~/...` relative to every home directory.
        public var probePaths: Set<String> = []
        /// Listening sockets on these ports get their owning processes looked up.
        public var socketPorts: [PortRange] = []
        /// Processes with these lowercased names (executable, argv[0] or comm) get their
        /// listening sockets looked up.
        public var processNames: Set<String> = []
        /// Look up the owner of every listening socket (for a full inventory).
        public var allSocketOwners = false
        /// Read apt's lists and update state (costs a parse of every Packages list).
        public var patchState = false
        /// Read ClamAV's databases and log.
        public var antivirusState = false
        /// Read USB devices, Bluetooth pairings and, for `deviceHistoryDays` back, the journal.
        public var devices = false
        public var deviceHistoryDays = 0
        /// Read the host controls (disk encryption, accounts, screen lock, sshd, logs, firewall).
        public var hostControls = false
        /// The time history is measured back from (unix seconds).
        public var now = 0

        public init(probePaths: Set<String> = [], socketPorts: [PortRange] = [], processNames: Set<String> = [],
                    allSocketOwners: Bool = false, patchState: Bool = false, antivirusState: Bool = false,
                    devices: Bool = false, hostControls: Bool = false) {
            self.probePaths = probePaths
            self.socketPorts = socketPorts
            self.processNames = processNames
            self.allSocketOwners = allSocketOwners
            self.patchState = patchState
            self.antivirusState = antivirusState
            self.devices = devices
            self.hostControls = hostControls
        }
    }

    public static func collect(from root: HostRoot, request: Request = Request()) -> HostFacts {
        collect(from: root) { () throws(Never) in request }
    }

    /// Collects everything; `request` is called on this thread while the package databases are
    /// parsed on another, so a caller can load its policy in that time.
    public static func collect<Failure: Error>(from root: HostRoot,
                                              request: () throws(Failure) -> Request) throws(Failure) -> HostFacts {
        let packages = BackgroundWork { () -> HostFacts in
            var facts = HostFacts()
            for step in packageSteps { step.collect(root, Request(), &facts) }
            return facts
        }
        let resolved: Request
        do { resolved = try request() } catch {
            _ = packages.wait()
            throw error
        }
        // apt needs the installed packages: it follows the dpkg parse on the background thread.
        let patches = resolved.patchState ? BackgroundWork { () -> HostFacts in
            var facts = packages.wait()
            facts.issues = []
            AptSource.collect(root, into: &facts)
            return facts
        } : nil
        var facts = HostFacts()
        for step in hostSteps { step.collect(root, resolved, &facts) }
        if resolved.antivirusState { ClamAVSource.collect(root, into: &facts) }
        if resolved.devices {
            UsbSysfsSource.collect(root, into: &facts)
            BluetoothSource.collect(root, into: &facts)
            if resolved.deviceHistoryDays > 0 {
                UsbHistorySource.collect(root, sinceDays: resolved.deviceHistoryDays, now: resolved.now, into: &facts)
            }
        }
        let parsed = packages.wait()
        facts.dpkgAvailable = parsed.dpkgAvailable
        facts.debianPackages = parsed.debianPackages
        facts.snaps = parsed.snaps
        facts.issues = parsed.issues + facts.issues
        if resolved.hostControls {
            var controls = HostControlFacts()
            var reader = ControlReader(root)
            DiskEncryptionSource.collect(&reader, into: &controls)
            AccountSource.collect(&reader, into: &controls)
            DesktopAndServiceSource.collect(&reader, packages: Set(facts.debianPackages.filter(\.isPresent).map(\.name)),
                                            into: &controls)
            facts.hostControls = controls
            facts.issues += reader.issues
        }
        if let patched = patches?.wait() {
            facts.apt = patched.apt
            facts.issues += patched.issues
        }
        return facts
    }

    /// One source's part of a collection, named so a benchmark can time it.
    public struct CollectionStep: Sendable {
        public let name: String
        public let collect: @Sendable (HostRoot, Request, inout HostFacts) -> Void
    }

    /// Package databases: independent of the policy and of the other sources.
    static let packageSteps: [CollectionStep] = [
        CollectionStep(name: "dpkg") { root, _, facts in DpkgSource.collect(root, into: &facts) },
        CollectionStep(name: "snap") { root, _, facts in SnapSource.collect(root, into: &facts) },
    ]

    /// Sources only some rules need, run when the request asks.
    static let requestedSteps: [CollectionStep] = [
        CollectionStep(name: "apt") { root, request, facts in if request.patchState { AptSource.collect(root, into: &facts) } },
        CollectionStep(name: "clamav") { root, request, facts in
            if request.antivirusState { ClamAVSource.collect(root, into: &facts) }
        },
    ]

    /// In order: home directories before the sources that look inside them, sockets before
    /// processes so only the inodes of listening sockets are looked up in /proc/PID/fd.
    static let hostSteps: [CollectionStep] = [
        CollectionStep(name: "identity") { root, _, facts in IdentitySource.collect(root, into: &facts) },
        CollectionStep(name: "homes") { root, _, facts in HomeDirectorySource.collect(root, into: &facts) },
        CollectionStep(name: "flatpak") { root, _, facts in FlatpakSource.collect(root, into: &facts) },
        CollectionStep(name: "executables") { root, _, facts in ExecutableSource.collect(root, into: &facts) },
        CollectionStep(name: "sockets") { root, _, facts in SocketSource.collect(root, into: &facts) },
        CollectionStep(name: "processes") { root, request, facts in ProcessSource.collect(root, request: request, into: &facts) },
        CollectionStep(name: "paths") { root, request, facts in PathProbe.collect(root, paths: request.probePaths, into: &facts) },
    ]

    /// Every step, one after another: what the benchmark times phase by phase.
    public static var collectionSteps: [CollectionStep] { packageSteps + requestedSteps + hostSteps }

    public func issues(from sources: Set<FactSource>) -> [FactIssue] {
        issues.filter { sources.contains($0.source) }
    }
}
