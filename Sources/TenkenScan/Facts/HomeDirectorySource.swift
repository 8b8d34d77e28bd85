import TenkenBase

/// A user's home directory under the root: from /etc/passwd (uid 0 and uid >= 1000) and every
/// directory in /home, since directory-service users are not in passwd.
public struct HomeDirectory: Sendable, Codable, Hashable {
    public let path: String
    public let user: String?
}

/// Finds the home directories from /etc/passwd and /home, and records the uid-to-name map on the way.
public enum HomeDirectorySource {
    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        var homes: [String: String?] = [:]
        var users: [UInt32: String] = [:]
        do {
            if let passwd = try root.readFileIfPresent("/etc/passwd", limit: 16 << 20) {
                for line in ByteText.split(passwd[...], on: 0x0A) {
                    let fields = line.split(separator: 0x3A, omittingEmptySubsequences: false)
                    guard fields.count >= 7, let name = ByteText.utf8(fields[0]),
                        let uid = ByteText.utf8(fields[2]).flatMap({ UInt32($0) }),
                        let home = ByteText.utf8(fields[5])
                    else { continue }
                    users[uid] = users[uid] ?? name
                    let isPerson = uid == 0 || (uid >= 1000 && uid != 65534)
                    if isPerson && home.hasPrefix("/") && home != "/" && root.exists(home) {
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
                    let path = "/home/" + entry.name.display
                    guard entry.name.isValidUTF8 else {
                        // Shown byte by byte; the next step makes a name it cannot represent decide the verdict.
                        facts.issues.append(
                            FactIssue(
                                .files, .limited, .unrepresentable, path: path,
                                Localized(
                                    ja: "\(path): 名前が UTF-8 ではないため調べていません",
                                    en: "\(path): not examined, its name is not valid UTF-8")))
                        continue
                    }
                    if homes[path] == nil { homes[path] = .some(nil) }
                }
            }
        } catch {
            facts.issues.append(.unreadable(.files, error))
        }
        facts.identity.userNames = users
        facts.homes = homes.keys.sorted().map { HomeDirectory(path: $0, user: homes[$0] ?? nil) }
    }
}
