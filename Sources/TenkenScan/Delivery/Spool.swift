import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// Signed reports waiting for the collector, one file each ("<sequence>-<report id>.jws"),
/// written atomically and removed only when the collector acknowledged them. A file that is
/// not a signed report is moved to rejected/ and reported, never deleted unseen.
public struct Spool: Sendable {
    public let directory: String

    /// A waiting report: its file name, sequence number and signed token.
    public struct Entry: Sendable, Hashable {
        public let name: String
        public let sequence: Int
        public let token: String
    }

    public init(stateDirectory: String) {
        directory = stateDirectory + "/spool"
    }

    public func enqueue(_ token: String, sequence: Int, reportID: String) throws(HostReadError) -> String {
        let digits = String(sequence)
        let name = String(repeating: "0", count: max(0, 12 - digits.count)) + digits + "-" + reportID + ".jws"
        try AtomicFile.write(Array((token + "\n").utf8), to: directory + "/" + name, mode: 0o600)
        return name
    }

    /// Waiting reports in sequence order, and messages about files that were set aside.
    public func pending() -> (entries: [Entry], rejected: [String]) {
        guard let spool = try? HostRoot(directory), let listing = try? spool.directory("."),
            let names = try? listing.entries()
        else {
            return ([], [])
        }
        var entries: [Entry] = []
        var rejected: [String] = []
        for entry in names where entry.kind == .file {
            let name = entry.name.display
            guard !name.hasPrefix(".") else { continue }  // an interrupted write's temporary file
            let sequence = name.split(separator: "-").first.flatMap { Int($0) }
            let token = (try? listing.readFile(entry.name, limit: 64 << 20)).map { String(decoding: $0, as: UTF8.self) }
            guard name.hasSuffix(".jws"), let sequence, let token, (try? JWS.verify(token)) != nil else {
                rejected.append(
                    setAside(name) ?? "\(directory)/\(name): not a signed report, and it cannot be moved aside; skipped"
                )
                continue
            }
            entries.append(Entry(name: name, sequence: sequence, token: token.trimmingCharacters(in: "\n")))
        }
        return (entries.sorted { $0.sequence < $1.sequence }, rejected)
    }

    /// The collector stored the report: remove it, durably.
    public func acknowledge(_ entry: Entry) throws(HostReadError) {
        guard unlink(directory + "/" + entry.name) == 0 || errno == ENOENT else {
            throw HostReadError(path: directory + "/" + entry.name, errno: errno)
        }
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 {
            fsync(parent)
            close(parent)
        }
    }

    /// The collector refused the report for good (e.g. a replayed sequence): keep it with the
    /// reason beside it in rejected/, out of the way of the reports behind it.
    /// nil when the file could not be moved (it then stays where it is).
    public func setAside(_ entry: Entry, reason: String) -> String? {
        mkdir(directory + "/rejected", 0o700)
        try? AtomicFile.write(
            Array((reason + "\n").utf8), to: directory + "/rejected/" + entry.name + ".reason", mode: 0o600)
        return setAside(entry.name, why: reason)
    }

    private func setAside(_ name: String, why: String = "not a signed report") -> String? {
        let rejected = directory + "/rejected"
        mkdir(rejected, 0o700)
        guard rename(directory + "/" + name, rejected + "/" + name) == 0 else { return nil }
        return "\(directory)/\(name): \(why); moved to \(rejected)/"
    }

    /// One sender at a time per spool: runs `send` under an exclusive lock, or returns nil at
    /// once when another process (the service, a `tenken agent --once`) holds it.
    public func whileSending<Result>(_ send: () async throws -> Result) async rethrows -> Result? {
        try? AtomicFile.makeDirectories(directory)
        let lock = open(directory + "/.send.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lock >= 0 else { return nil }
        defer { close(lock) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { return nil }
        return try await send()
    }
}
