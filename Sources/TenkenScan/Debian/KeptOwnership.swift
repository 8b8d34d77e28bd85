/// dpkg's answers about who owns the programs a check looks at, kept by the agent between its
/// checks while its journal vouches that dpkg's database did not change: nothing written in
/// /var/lib/dpkg (status, diversions) or /var/lib/dpkg/info (file lists, md5sums) since the
/// previous check, and the same packages installed. Without it every check reads every
/// package's file list again.
struct KeptOwnership: Sendable {
    static let slot = "dpkg-ownership"

    let installed: Set<String>
    var owners: [HostPath: DpkgFileOwnership.Owner?] = [:]
    var checksums: [DpkgFileOwnership.Owner: [UInt8]?] = [:]

    init(installed: Set<String>) { self.installed = installed }

    /// The previous check's answers, when the journal vouches for them.
    static func previous(_ memory: CheckMemory?, _ root: HostRoot, installed: Set<String>) -> KeptOwnership? {
        guard let memory, let kept = memory.kept(slot, as: KeptOwnership.self), kept.installed == installed,
            memory.unchanged(root, directory: "/var/lib/dpkg"),
            memory.unchanged(root, directory: DpkgFileOwnership.infoPath)
        else { return nil }
        return kept
    }
}
