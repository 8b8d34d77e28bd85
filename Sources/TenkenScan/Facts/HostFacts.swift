import TenkenBase

/// Everything the sources read from one root. The sources of `FactSourceRegistry` fill it;
/// evaluation only reads it.
public struct HostFacts: Sendable {
    public var identity = HostIdentity()
    public var dpkgAvailable = false
    public var debianPackages: [DebianPackage] = []
    /// Names of the packages installed (or half-installed) now: what the host controls look for.
    public var installedPackageNames: Set<String> = []
    public var snaps: [SnapPackage] = []
    public var flatpaks: [FlatpakApp] = []
    public var homes: [HomeDirectory] = []
    public var executables: [ExecutableFile] = []
    /// Files the walk found that may be programs, for content inspection (when a rule asks).
    public var programCandidates: [ProgramCandidate] = []
    /// Programs whose content showed a catalog's mark (an engine linked, protocol signatures).
    public var inspectedPrograms: [InspectedProgram] = []
    /// The rules the programs were inspected with: `inspectedPrograms` index into them.
    public var contentRules: ContentRules?
    /// What the content source read and skipped, for the benchmark.
    public internal(set) var contentCounts = ProgramContentSource.Counts()
    public internal(set) var walkCounts = ExecutableSource.Counts()
    /// The file systems (and excluded paths) the walk met, and what it did with each.
    public internal(set) var fileSystemsMet: [MetFileSystem] = []
    /// The files dpkg's records vouch for, as the walk asked them (when content is inspected).
    var ownedPaths: OwnedPathIndex?
    public var processes: [RunningProcess] = []
    public var listeningSockets: [ListeningSocket] = []
    /// Patch state; nil when no rule asked for it or the root has no dpkg database.
    public var apt: AptFacts?
    /// The release and its support dates; nil when no rule asked, or the root is not Debian's or Ubuntu's.
    public var release: ReleaseFacts?
    /// USB devices connected now (sysfs) and connections the journal recorded.
    public var usbDevices: [UsbDevice] = []
    public var usbHistory: [UsbConnection] = []
    public var bluetoothPairings: [BluetoothPairing] = []
    /// Host controls; nil when no rule asked for them.
    public var hostControls: HostControlFacts?
    /// ClamAV databases; nil when no rule asked for them or /var/lib/clamav does not exist.
    public var clamav: ClamAVFacts?
    /// Paths a policy asked about (catalog `paths`), with whether each exists under the root.
    public var probedPaths: [String: Bool] = [:]
    public var issues: [FactIssue] = []
    /// The sources that were read (the registry's `collect` records each).
    public var collected: Set<FactSource> = []

    public init() {}

    /// What a policy needs beyond the sources that are always read. Finding a socket's process
    /// means reading every process's fd table, so owners are looked up only where a rule can use them.
    public struct Request: Sendable {
        /// Sources read only when a rule asks (the registry marks them `whenRequested`).
        public var sources: Set<FactSource> = []
        /// Absolute paths, or `~/...` relative to every home directory.
        public var probePaths: Set<String> = []
        /// Listening sockets on these ports get their owning processes looked up.
        public var socketPorts: [PortRange] = []
        /// Processes with these lowercased names (executable, argv[0] or comm) get their
        /// listening sockets looked up.
        public var processNames: Set<String> = []
        /// Look up the owner of every listening socket (for a full inventory).
        public var allSocketOwners = false
        /// Lowercased names of the program files the walk keeps (AppImages are always kept);
        /// nil keeps every file.
        public var programNames: Set<String>?
        /// What program content is inspected for; nil: no content inspection (no forbidden
        /// category has engines or protocols).
        public var content: ContentRules?
        /// Where what earlier checks learned is kept (the agent's state directory): programs'
        /// content, apt lists' offers; nil: everything is read again.
        public var cacheDirectory: StateDirectory?
        /// What the agent keeps between its checks (the program walk, with its change journal);
        /// nil: every directory is read.
        public var memory: CheckMemory?
        /// Whether apt's lists are read for pending updates, the last upgrade, reboots and automatic
        /// updates; without it only their Debian tags are read. A policy asks for it only when it
        /// has patch rules.
        public var pendingUpdates = true
        /// The most entries one program-directory walk reads; nil: the source's own bound.
        public var walkEntryLimit: Int?
        /// Which file systems the walk enters.
        public var fileSystems = FileSystemPolicy()
        /// How many days back the journal is read for USB connections (0: not at all).
        public var deviceHistoryDays = 0
        /// The time history is measured back from (unix seconds).
        public var now = 0

        public init(
            sources: Set<FactSource> = [], probePaths: Set<String> = [], socketPorts: [PortRange] = [],
            processNames: Set<String> = [], allSocketOwners: Bool = false
        ) {
            self.sources = sources
            self.probePaths = probePaths
            self.socketPorts = socketPorts
            self.processNames = processNames
            self.allSocketOwners = allSocketOwners
        }
    }

    public static func collect(from root: HostRoot, request: Request = Request()) -> HostFacts {
        collect(from: root) { () throws(Never) in request }
    }

    /// Reads every source the registry declares that `request` turns on. `request` is called on
    /// this thread while the package databases are parsed on another, so a caller can load its
    /// policy in that time; apt's lists, which need the installed packages, are parsed on that
    /// other thread while this one reads the host.
    public static func collect<Failure: Error>(
        from root: HostRoot,
        request: () throws(Failure) -> Request
    ) throws(Failure) -> HostFacts {
        let registry = FactSourceRegistry.all
        let packageSources = registry.filter { $0.stage == .packages }
        let packages = BackgroundWork { () -> HostFacts in
            var facts = HostFacts()
            for source in packageSources { source.collect(root, Request(), &facts) }
            return facts
        }
        let resolved: Request
        do { resolved = try request() } catch {
            _ = packages.wait()
            throw error
        }
        let besideSources = registry.filter { $0.stage == .besidePackages && $0.isRequested(by: resolved) }
        let beside =
            besideSources.isEmpty
            ? nil
            : BackgroundWork { () -> HostFacts in
                // Starts from the packages, keeping only what the sources read here add to it.
                var facts = packages.wait()
                facts.issues = []
                facts.collected = []
                for source in besideSources { source.collect(root, resolved, &facts) }
                return facts
            }
        var facts = HostFacts()
        for source in registry where source.stage == .host && source.isRequested(by: resolved) {
            source.collect(root, resolved, &facts)
        }
        // The packages' issues first, as their sources come first in the registry.
        facts.adopt(packages.wait(), from: packageSources, issuesFirst: true)
        for source in registry where source.stage == .afterPackages && source.isRequested(by: resolved) {
            source.collect(root, resolved, &facts)
        }
        if let read = beside?.wait() { facts.adopt(read, from: besideSources, issuesFirst: false) }
        return facts
    }

    /// Takes over what `sources` read on another thread into `read`: what each declares it
    /// adopts, and their issues and the record of what was read.
    private mutating func adopt(_ read: HostFacts, from sources: [FactSourceDeclaration], issuesFirst: Bool) {
        for source in sources { source.adopt?(&self, read) }
        issues = issuesFirst ? read.issues + issues : issues + read.issues
        collected.formUnion(read.collected)
    }

    /// What each source read, complete or with its gaps, in the registry's order.
    public var coverage: [SourceCoverage] {
        FactSourceRegistry.all.map { declaration in
            SourceCoverage(
                source: declaration.source.rawValue, read: collected.contains(declaration.source),
                gaps: issues.filter { $0.source == declaration.source }.map(\.gap))
        }
    }

    /// The issues of `sources`; with `parts`, those about the whole source or one of `parts`.
    public func issues(from sources: Set<FactSource>, about parts: Set<FactPart>? = nil) -> [FactIssue] {
        issues.filter { issue in
            sources.contains(issue.source) && (parts == nil || issue.part.map { parts!.contains($0) } ?? true)
        }
    }
}
