import TenkenBase

/// ClamAV's signature databases and its updater's log under the root.
public struct ClamAVFacts: Sendable {
    /// One signature database (.cvd or .cld), from its header: version, signature count and build time.
    public struct Database: Sendable, Hashable {
        public let file: String
        public let version: Int
        public let signatures: Int
        /// When the database was built (unix seconds), from the header's last field.
        public let builtAt: Int
    }

    public var databases: [Database] = []
    /// ERROR lines of freshclam's last run (since its last start banner).
    public var updaterErrors: [String] = []

    /// The newest database build time: how current the patterns are.
    public var newestBuild: Int? { databases.map(\.builtAt).max() }

    /// Where they are read from, under the root (also named in the evidence).
    public static let databasePath = "/var/lib/clamav"
    public static let logPath = "/var/log/clamav/freshclam.log"
}

enum ClamAVSource {
    static let databasePath = ClamAVFacts.databasePath
    static let logPath = ClamAVFacts.logPath

    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        var clam = ClamAVFacts()
        do {
            guard let directory = try root.directoryIfPresent(databasePath) else { return }
            for entry in try directory.entries().sorted(by: { $0.name.display < $1.name.display }) {
                let name = entry.name.display
                guard name.hasSuffix(".cvd") || name.hasSuffix(".cld") else { continue }
                let path = databasePath + "/" + name
                do {
                    let header = try directory.readPrefix(entry.name, count: 512)
                    guard let database = parseHeader(header, file: path) else {
                        facts.issues.append(
                            FactIssue(
                                .antivirus, .error, .damaged, path: path,
                                Localized(
                                    ja: "\(path): ClamAV データベースのヘッダーを読み取れません (破損の可能性)",
                                    en: "\(path): not a ClamAV database header (damaged?)")))
                        continue
                    }
                    clam.databases.append(database)
                } catch {
                    facts.issues.append(.unreadable(.antivirus, error))
                }
            }
        } catch {
            facts.issues.append(.unreadable(.antivirus, error))
        }
        clam.updaterErrors = updaterErrors(root)
        facts.clamav = clam
    }

    /// "ClamAV-VDB:20 Nov 2026 09-26 +0000:27829:2076548:90:<md5>:<dsig>:<builder>:1795771560"
    static func parseHeader(_ bytes: [UInt8], file: String) -> ClamAVFacts.Database? {
        guard bytes.count == 512, let text = String(validating: bytes, as: UTF8.self), text.hasPrefix("ClamAV-VDB:")
        else {
            return nil
        }
        let fields = text.trimmingCharacters(in: " \0").split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count >= 9, let version = Int(fields[2]), let signatures = Int(fields[3]),
            let built = Int(fields[8].trimmingCharacters(in: " \0")), Timestamp.plausible.contains(built)
        else { return nil }
        return ClamAVFacts.Database(file: file, version: version, signatures: signatures, builtAt: built)
    }

    private static func updaterErrors(_ root: HostRoot) -> [String] {
        guard let bytes = try? root.readFileIfPresent(logPath, limit: 64 << 20) else { return [] }
        var errors: [String] = []
        for line in ByteText.split(bytes[...], on: 0x0A) {
            let text = ByteText.display(line)
            if text.contains("freshclam daemon") || text.contains("ClamAV update process started") { errors = [] }
            if text.contains("ERROR:") { errors.append(text) }
        }
        return Array(errors.suffix(10))
    }
}
