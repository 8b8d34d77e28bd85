/// One package stanza of /var/lib/dpkg/status.
public struct DebianPackage: Sendable, Codable, Hashable {
    public let name: String
    public let version: String
    public let architecture: String
    /// The Status field, "want error state", e.g. "install ok installed".
    public let status: String

    public init(name: String, version: String, architecture: String, status: String) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.status = status
    }

    /// The dpkg state word: installed, config-files, half-installed, unpacked, ...
    public var state: String { status.split(separator: " ").last.map(String.init) ?? "" }

    /// Files of the package are on disk (everything but not-installed and config-files).
    public var isPresent: Bool { !["not-installed", "config-files", ""].contains(state) }
}
