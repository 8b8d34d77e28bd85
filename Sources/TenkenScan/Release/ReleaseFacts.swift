/// Which release the root runs, as each file that names it says, and the support dates
/// distro-info gives those releases.
public struct ReleaseFacts: Sendable {
    /// "debian" or "ubuntu": whose dates apply (a derivative by its ID_LIKE or UBUNTU_CODENAME).
    public var distribution: String
    /// Each file that names the release, with what it says and the release that matches.
    public var claims: [ReleaseClaim] = []
    /// The releases the claims name, once each, from distro-info (the root's file and tenken's
    /// copy merged).
    public var releases: [DistroRelease] = []
    /// Configured and enabled archives of extended support (Freexian's Debian ELTS, Ubuntu
    /// Pro's ESM), by their URI.
    public var extendedSupport: [String] = []
    /// ubuntu-server is installed: Ubuntu's server end dates apply.
    public var server = false

    public init(distribution: String) { self.distribution = distribution }
}

/// What one file says of the release ("/etc/os-release" says "12 (bookworm)").
public struct ReleaseClaim: Sendable, Hashable {
    public let file: String
    public let says: String
    /// The series of the release it names ("bookworm"); nil when distro-info knows none.
    public let series: String?
}
