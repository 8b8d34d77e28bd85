import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// Signed reports waiting for the collector, one file each ("<sequence>-<report id>.jws"),
/// written atomically and removed only when the collector acknowledged them. A file that is
/// not a signed report is moved to rejected/ and reported, never deleted unseen.
public struct Spool: Sendable {
    public let stateDirectory: String
    public var directory: String { stateDirectory + "/spool" }

    /// A waiting report: its file name, sequence number and signed token.
    public struct Entry: Sendable, Hashable {
        public let name: String
        public let sequence: Int
        public let token: String
    }

    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    /// The spool directory, checked as the state directory is (ours, writable by us only, no links).
    private func open(create: Bool = true) throws(HostReadError) -> StateDirectory {
        try StateDirectory(stateDirectory, create: create).subdirectory("spool", create: create)
    }

    public func enqueue(_ token: String, sequence: Int, reportID: String) throws(HostReadError) -> String {
        let digits = String(sequence)
        let name = String(repeating: "0", count: max(0, 12 - digits.count)) + digits + "-" + reportID + ".jws"
        try open().write(name, Array((token + "\n").utf8), mode: 0o600)
        return name
    }

    /// Waiting reports in sequence order, and messages about files that were set aside (or
    /// about a spool that cannot be trusted, which is then not read at all).
    public func pending() -> (entries: [Entry], rejected: [String]) {
        let spool: StateDirectory
        let names: [(name: String, isFile: Bool)]
        do {
            spool = try open(create: false)
            names = try spool.names()
        } catch  where error.isNotFound {
            return ([], [])
        } catch {
            return ([], [error.message(in: .en)])
        }
        var entries: [Entry] = []
        var rejected: [String] = []
        for (name, isFile) in names where isFile {
            guard !name.hasPrefix(".") else { continue }  // an interrupted write's temporary file
            let sequence = name.split(separator: "-").first.flatMap { Int($0) }
            let token = (try? spool.read(name, limit: 64 << 20)).flatMap { $0 }.map {
                String(decoding: $0, as: UTF8.self)
            }
            guard name.hasSuffix(".jws"), let sequence, let token, (try? JWS.verify(token)) != nil else {
                rejected.append(
                    setAside(name, in: spool)
                        ?? "\(directory)/\(name): not a signed report, and it cannot be moved aside; skipped")
                continue
            }
            entries.append(Entry(name: name, sequence: sequence, token: token.trimmingCharacters(in: "\n")))
        }
        return (entries.sorted { $0.sequence < $1.sequence }, rejected)
    }

    /// The collector stored the report: remove it, durably.
    public func acknowledge(_ entry: Entry) throws(HostReadError) {
        try open().remove(entry.name)
    }

    /// The collector refused the report for good (e.g. a replayed sequence): keep it with the
    /// reason beside it in rejected/, out of the way of the reports behind it.
    /// nil when the file could not be moved (it then stays where it is).
    public func setAside(_ entry: Entry, reason: String) -> String? {
        guard let spool = try? open(), let rejected = try? spool.subdirectory("rejected") else { return nil }
        try? rejected.write(entry.name + ".reason", Array((reason + "\n").utf8), mode: 0o600)
        return setAside(entry.name, in: spool, why: reason)
    }

    private func setAside(_ name: String, in spool: StateDirectory, why: String = "not a signed report") -> String? {
        guard let rejected = try? spool.subdirectory("rejected"), (try? spool.move(name, to: rejected)) != nil else {
            return nil
        }
        return "\(directory)/\(name): \(why); moved to \(directory)/rejected/"
    }

    /// Why the spool cannot be trusted (another user's, writable by others, a link), or nil
    /// when it can, or does not exist yet.
    public func problem() -> HostReadError? {
        do {
            _ = try open(create: false)
            return nil
        } catch  where error.isNotFound {
            return nil
        } catch {
            return error
        }
    }

    /// One sender at a time per spool: runs `send` under an exclusive lock, or returns nil at
    /// once when another process (the service, a `tenken agent --once`) holds it.
    public func whileSending<Result>(_ send: () async throws -> Result) async rethrows -> Result? {
        guard let spool = try? open(), let lock = try? spool.lockFile(".send.lock") else { return nil }
        defer { close(lock) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { return nil }
        return try await send()
    }
}
