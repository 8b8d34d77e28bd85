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
    /// Paths a policy asked about (catalog `paths`), with whether each exists under the root.
    public var probedPaths: [String: Bool] = [:]
    public var issues: [FactIssue] = []

    public init() {}

    /// What a policy needs beyond the fixed sources.
    public struct Request: Sendable {
        /// Absolute paths, or `~/...` relative to every home directory.
        public var probePaths: Set<String> = []
        public init(probePaths: Set<String> = []) { self.probePaths = probePaths }
    }

    public static func collect(from root: HostRoot, request: Request = Request()) -> HostFacts {
        var facts = HostFacts()
        IdentitySource.collect(root, into: &facts)
        DpkgSource.collect(root, into: &facts)
        SnapSource.collect(root, into: &facts)
        HomeDirectorySource.collect(root, into: &facts)
        FlatpakSource.collect(root, into: &facts)
        ExecutableSource.collect(root, into: &facts)
        SocketSource.collect(root, into: &facts)
        ProcessSource.collect(root, into: &facts)
        PathProbe.collect(root, paths: request.probePaths, into: &facts)
        return facts
    }

    public func issues(from sources: Set<FactSource>) -> [FactIssue] {
        issues.filter { sources.contains($0.source) }
    }
}
