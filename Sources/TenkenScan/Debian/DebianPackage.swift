/// One package stanza of /var/lib/dpkg/status.
public struct DebianPackage: Sendable, Hashable {
    public let name: String
    public let version: String
    public let architecture: String
    /// The Status field, "want error state", e.g. "install ok installed".
    public let status: String

    /// The dpkg state word: installed, config-files, half-installed, unpacked, ...
    public let state: String
    /// Files of the package are on disk (every state but not-installed and config-files).
    public let isPresent: Bool
    /// The packages its Depends and Pre-Depends name (every alternative), lowercased.
    public let dependencies: [String]

    public init(name: String, version: String, architecture: String, status: String, dependencies: [String] = []) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.status = status
        self.dependencies = dependencies
        // dpkg reads the words in any case; written by dpkg they are lowercase already.
        let word = status.split(whereSeparator: { $0 == " " || $0 == "\t" }).last ?? ""
        state = word.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? word.lowercased() : String(word)
        isPresent = state != "not-installed" && state != "config-files" && !state.isEmpty
    }
}
