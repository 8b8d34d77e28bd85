import TenkenBase

/// A user's home directory under the root: from /etc/passwd (uid 0 and uid >= 1000) and every
/// directory in /home, since directory-service users are not in passwd.
public struct HomeDirectory: Sendable, Hashable {
    /// Where it is, as the kernel names it: a name that is not UTF-8 is still walked.
    public let location: HostPath
    public let user: String?

    /// The path as reports show it.
    public var path: String { location.display }

    /// A path below the home, as reports show it (the key of probed `~/` paths).
    public func path(_ relative: String) -> String { location.appending(relative).display }
}

/// Finds the home directories from /etc/passwd and /home, and records the uid-to-name map on the way.
public enum HomeDirectorySource {
    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        var homes: [HostPath: String?] = [:]
        var users: [UInt32: String] = [:]
        do {
            if let passwd = try root.readFileIfPresent("/etc/passwd", limit: 16 << 20) {
                for line in ByteText.split(passwd[...], on: 0x0A) {
                    let fields = line.split(separator: 0x3A, omittingEmptySubsequences: false)
                    guard fields.count >= 7, let uid = ByteText.utf8(fields[2]).flatMap({ UInt32($0) }) else {
                        continue
                    }
                    // Names and homes are bytes: one that is not UTF-8 is shown escaped, not skipped.
                    let name = ByteText.display(fields[0])
                    let home = HostPath(bytes: Array(fields[5]))
                    users[uid] = users[uid] ?? name
                    let isPerson = uid == 0 || (uid >= 1000 && uid != 65534)
                    if isPerson && home.bytes.first == 0x2F && home.bytes != [0x2F] && root.exists(home) {
                        homes[home] = name
                    }
                }
            }
        } catch {
            facts.issues.append(.unreadable(.files, error))
        }
        do {
            if let directory = try root.directoryIfPresent("/home") {
                for entry in try directory.entries() where entry.kind == .directory {
                    let home = HostPath("/home").appending(entry.name)
                    if homes[home] == nil { homes[home] = .some(nil) }
                }
            }
        } catch {
            facts.issues.append(.unreadable(.files, error))
        }
        facts.identity.userNames = users
        facts.homes = homes.keys.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            .map { HomeDirectory(location: $0, user: homes[$0] ?? nil) }
    }
}
