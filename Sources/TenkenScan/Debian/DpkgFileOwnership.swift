import TenkenBase

/// Which installed package owns each of a set of files, from dpkg's file lists
/// (/var/lib/dpkg/info/PACKAGE.list) and its diversions; and what content dpkg installed there
/// (PACKAGE.md5sums). Only the paths asked about are looked up, so the 100,000 lines of a
/// desktop's lists cost a hash each, not a string each. A list of a package that is not installed
/// (planted, or left behind) owns nothing.
struct DpkgFileOwnership {
    static let infoPath = "/var/lib/dpkg/info"
    static let diversionsPath = "/var/lib/dpkg/diversions"

    struct Owner: Sendable, Hashable {
        /// The list's name without ".list": "bash", or "libc6:amd64" for a multi-arch package.
        let package: String
        /// The path as the package lists it (before a diversion, or under /bin on merged /usr).
        let listedAs: [UInt8]
        /// When dpkg last wrote the package's list and its md5sums (unix seconds; nil: no
        /// md5sums): a file it installed has not changed since either. Editing a list (to claim a
        /// file) moves only the list's time.
        let listWritten: Int
        let checksumsWritten: Int?
    }

    private(set) var issues: [FactIssue] = []
    private let root: HostRoot
    private let info: Directory?

    init(_ root: HostRoot, issues: inout [FactIssue]) {
        self.root = root
        do { info = try root.directoryIfPresent(Self.infoPath) } catch {
            issues.append(.unreadable(.content, error, level: .limited))
            info = nil
        }
    }

    /// One question: who lists `key`, with a package that may not count (a diversion's target
    /// belongs to the diverted package, not the one that diverted it) or the only one that does.
    private struct Query {
        let index: Int
        let key: [UInt8]
        let excluding: String?
        let only: String?
    }

    /// The owner of each of `paths`, in order; nil where no installed package lists the file.
    /// Lists that cannot be read own nothing, so what they would hide is inspected by content.
    func owners(of paths: [HostPath], installed: Set<String>, issues: inout [FactIssue]) -> [Owner?] {
        guard let info, !paths.isEmpty else { return Array(repeating: nil, count: paths.count) }
        let diversions = readDiversions(&issues)
        let merged = mergedUsrAliases()
        var queries: [Int: [Query]] = [:]
        for (index, path) in paths.enumerated() {
            var keys = [path.bytes]
            for (usr, alias) in merged where path.bytes.starts(with: usr) {
                keys.append(alias + path.bytes.dropFirst(usr.count))
            }
            for key in keys {
                let query: Query
                if let diversion = diversions.byTarget[key] {
                    query = Query(index: index, key: diversion.from, excluding: diversion.by, only: nil)
                } else if let by = diversions.bySource[key] {
                    // A local diversion (":") leaves the path to the administrator: nobody owns it.
                    guard by != ":" else { continue }
                    query = Query(index: index, key: key, excluding: nil, only: by)
                } else {
                    query = Query(index: index, key: key, excluding: nil, only: nil)
                }
                queries[Self.hash(query.key[...]), default: []].append(query)
            }
        }
        var owners = [Owner?](repeating: nil, count: paths.count)
        var checksumsWritten: [String: Int?] = [:]
        let entries: [Directory.Entry]
        do { entries = try info.entries() } catch {
            issues.append(.unreadable(.content, error, level: .limited))
            return owners
        }
        for entry in entries where entry.kind == .file {
            let name = entry.name.display
            guard name.hasSuffix(".list") else { continue }
            let package = String(name.dropLast(5))
            guard installed.contains(String(package.prefix { $0 != ":" })) else { continue }
            let bytes: [UInt8]
            let written: Int
            do {
                bytes = try info.readFile(entry.name, limit: 64 << 20)
                written = try info.status(entry.name).modified
            } catch {
                issues.append(.unreadable(.content, error, level: .limited))
                continue
            }
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
                guard let candidates = queries[Self.hash(line)] else { continue }
                for query in candidates where owners[query.index] == nil && query.key.elementsEqual(line) {
                    // The diversions file names packages without their architecture.
                    let bare = String(package.prefix { $0 != ":" })
                    if let excluded = query.excluding, excluded == bare { continue }
                    if let only = query.only, only != bare { continue }
                    if checksumsWritten[package] == nil {
                        checksumsWritten[package] = try? info.status(FileName(package + ".md5sums")).modified
                    }
                    owners[query.index] = Owner(
                        package: package, listedAs: query.key, listWritten: written,
                        checksumsWritten: checksumsWritten[package] ?? nil)
                }
            }
        }
        return owners
    }

    /// The md5sum dpkg recorded for the owner's file, as 32 hex digits; nil when the package has
    /// no md5sums file, it cannot be read, or it does not list the file: then the file is read by
    /// content, so a failure here costs time, never sight.
    func recordedMD5(_ owner: Owner) -> [UInt8]? {
        guard let info,
            let bytes = try? info.readFile(FileName(owner.package + ".md5sums"), limit: 64 << 20)
        else { return nil }
        // "d41d8cd98f00b204e9800998ecf8427e  usr/bin/foo": the path without its leading "/".
        let path = owner.listedAs.drop { $0 == 0x2F }
        for line in bytes.split(separator: 0x0A) where line.count > 34 {
            if line.dropFirst(34).elementsEqual(path) { return Array(line.prefix(32)) }
        }
        return nil
    }

    private struct Diversions {
        var byTarget: [[UInt8]: (from: [UInt8], by: String)] = [:]
        var bySource: [[UInt8]: String] = [:]
    }

    /// /var/lib/dpkg/diversions: three lines per diversion (from, to, the package that diverts
    /// or ":" for a local one).
    private func readDiversions(_ issues: inout [FactIssue]) -> Diversions {
        var diversions = Diversions()
        let bytes: [UInt8]
        do {
            guard let present = try root.readFileIfPresent(Self.diversionsPath, limit: 16 << 20) else {
                return diversions
            }
            bytes = present
        } catch {
            issues.append(.unreadable(.content, error, level: .limited))
            return diversions
        }
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        var index = 0
        while index + 2 < lines.count {
            let from = Array(lines[index])
            let by = String(decoding: lines[index + 2], as: UTF8.self)
            diversions.byTarget[Array(lines[index + 1])] = (from, by)
            diversions.bySource[from] = by
            index += 3
        }
        return diversions
    }

    /// On a merged-/usr root (/bin a symlink to usr/bin), a list's /bin/ls is the file /usr/bin/ls.
    /// A link that cannot be read gives no alias, which leaves those files unowned: read by content.
    private func mergedUsrAliases() -> [([UInt8], [UInt8])] {
        var aliases: [([UInt8], [UInt8])] = []
        guard let top = try? root.directory("/") else { return aliases }
        for name in ["bin", "sbin", "lib", "lib64"] {
            guard let target = try? top.readLink(FileName(name)) else { continue }
            let text = target.display
            if text == "usr/" + name || text == "/usr/" + name {
                aliases.append((Array("/usr/\(name)/".utf8), Array("/\(name)/".utf8)))
            }
        }
        return aliases
    }

    private static func hash(_ bytes: ArraySlice<UInt8>) -> Int {
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}
