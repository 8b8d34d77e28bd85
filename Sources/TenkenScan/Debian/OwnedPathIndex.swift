import TenkenBase

/// Every path a package's file list names, for the walk to ask of each file it meets: a file a
/// package owns and nobody changed since dpkg wrote it is its package's business (the package
/// rules judge it) and is not read at all; every other file is classified by its first bytes.
///
/// Ownership follows dpkg, not the lists alone: a diverted-to path is nobody's (what is kept
/// there is read by content), a diverted path is only its diverter's (nobody's for a local
/// diversion), and a list naming a file in a tree Debian leaves to users owns nothing. Lists
/// of packages that are not installed are indexed too (the walk runs before the package
/// database is parsed); `ExecutableSource` then looks at what such a list covered.
final class OwnedPathIndex: Sendable {
    struct Package: Sendable {
        /// The list's name without ".list": "bash", or "libc6:amd64" for a multi-arch package.
        let name: String
        /// Files whose ctime is at most this (unix seconds) are as dpkg left them: the earliest of
        /// the times of its list and md5sums, their birth times included where the file system
        /// records them (those `touch` cannot move). nil: never trusted by time (no md5sums, or
        /// a time in the future), so its program-like files are checked against their md5sums.
        let trustedUntil: Int?

        var bareName: String { String(name.prefix { $0 != ":" }) }
    }

    struct Owner: Sendable, Hashable {
        let package: Int
        /// The path as the package lists it (under /bin on merged /usr), as its md5sums name it.
        let listedAs: [UInt8]
    }

    static let slot = "dpkg-owned-paths"

    let packages: [Package]
    /// Tells one index from another within a process (the agent's walk memory is kept under it).
    let digest: String
    /// Whether every package's records had birth times: without them a `touch` of a list and
    /// its md5sums makes the files it names look unchanged, which the coverage says.
    let birthTimesKnown: Bool
    private let pool: [UInt8]
    /// Entry `i` is `pool[starts[i]..<starts[i + 1]]`, owned by `owners[i]`.
    private let starts: [Int32]
    private let owners: [Int32]
    /// Which merged-/usr alias the list used for entry `i` (-1: none), to give `listedAs`.
    private let aliases: [Int8]
    private let mergedUsr: [(usr: [UInt8], alias: [UInt8])]
    /// Open addressing: entry indexes, -1 for an empty slot; the count a power of two.
    private let slots: [Int32]
    /// The entries of each package, in order.
    let entries: [Range<Int>]

    /// Trees where packages install nothing: a list naming a file there owns nothing.
    static let userTrees = ["/home/", "/root/", "/usr/local/", "/srv/", "/tmp/", "/var/tmp/", "/dev/shm/"].map {
        Array($0.utf8)
    }

    /// Reads every file list in /var/lib/dpkg/info. What cannot be read owns nothing (its files
    /// are read by content), with an issue.
    init(_ root: HostRoot, now: Int, issues: inout [FactIssue]) {
        var packages: [Package] = []
        var pool: [UInt8] = []
        var starts: [Int32] = []
        var owners: [Int32] = []
        var aliases: [Int8] = []
        var entries: [Range<Int>] = []
        var birthTimesKnown = true
        let merged = Self.mergedUsrAliases(root)
        let diversions = Self.readDiversions(root, &issues)
        var info: Directory?
        do { info = try root.directoryIfPresent(DpkgFileOwnership.infoPath) } catch {
            issues.append(.unreadable(.content, error, level: .limited))
        }
        var listed: [Directory.Entry] = []
        if let info {
            do { listed = try info.entries() } catch { issues.append(.unreadable(.content, error, level: .limited)) }
        }
        for entry in listed where entry.kind == .file && entry.name.display.hasSuffix(".list") {
            guard let info else { break }
            let name = String(entry.name.display.dropLast(5))
            let bytes: [UInt8]
            let list: (modified: Int, changed: Int, born: Int?)
            do {
                bytes = try info.readFile(entry.name, limit: 64 << 20)
                list = try info.times(entry.name)
            } catch {
                issues.append(.unreadable(.content, error, level: .limited))
                continue
            }
            let sums = try? info.times(FileName(name + ".md5sums"))
            var trusted: Int?
            if let sums {
                let times =
                    [list.modified, list.changed, sums.modified, sums.changed]
                    + [list.born, sums.born].compactMap(\.self)
                trusted = times.max()! <= now + 60 ? times.min() : nil
                if list.born == nil || sums.born == nil { birthTimesKnown = false }
            }
            let package = Package(name: name, trustedUntil: trusted)
            let bare = package.bareName
            let first = starts.count
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) where line.first == 0x2F {
                if let by = diversions.diverted[Array(line)], by != bare { continue }
                if diversions.targets.contains(Array(line)) { continue }
                var alias: Int8 = -1
                var path = Array(line)
                for (index, pair) in merged.enumerated() where line.starts(with: pair.alias) {
                    path = pair.usr + line.dropFirst(pair.alias.count)
                    alias = Int8(index)
                    break
                }
                if Self.userTrees.contains(where: { path.starts(with: $0) }) { continue }
                starts.append(Int32(pool.count))
                pool += path
                owners.append(Int32(packages.count))
                aliases.append(alias)
            }
            entries.append(first..<starts.count)
            packages.append(package)
        }
        starts.append(Int32(pool.count))
        var capacity = 16
        while capacity < owners.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        for index in 0..<owners.count {
            let path = pool[Int(starts[index])..<Int(starts[index + 1])]
            var slot = path.withUnsafeBytes { Self.hash($0) } & (capacity - 1)
            while slots[slot] >= 0 {
                let other = slots[slot]
                // A path two lists name belongs to the first (dpkg refuses such overlaps unless
                // one replaces the other; either way the file is a package's).
                if pool[Int(starts[Int(other)])..<Int(starts[Int(other) + 1])] == path { break }
                slot = (slot + 1) & (capacity - 1)
            }
            if slots[slot] < 0 { slots[slot] = Int32(index) }
        }
        self.packages = packages
        self.pool = pool
        self.starts = starts
        self.owners = owners
        self.aliases = aliases
        self.slots = slots
        self.entries = entries
        self.birthTimesKnown = birthTimesKnown
        var hasher = Hasher()
        for package in packages {
            hasher.combine(package.name)
            hasher.combine(package.trustedUntil)
        }
        hasher.combine(pool.count)
        digest = String(hasher.finalize(), radix: 16)
        mergedUsr = merged
    }

    /// The entry for the file `name` in the directory `directory`, if a list names it.
    func entry(directory: [UInt8], name: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !owners.isEmpty else { return nil }
        let separator: [UInt8] = directory.last == 0x2F ? [] : [0x2F]
        var hasher = Hasher()
        directory.withUnsafeBytes { hasher.combine(bytes: $0) }
        separator.withUnsafeBytes { hasher.combine(bytes: $0) }
        hasher.combine(bytes: UnsafeRawBufferPointer(name))
        var slot = hasher.finalize() & (slots.count - 1)
        let length = directory.count + separator.count + name.count
        while slots[slot] >= 0 {
            let index = Int(slots[slot])
            let start = Int(starts[index])
            if Int(starts[index + 1]) - start == length,
                pool[start..<start + directory.count].elementsEqual(directory),
                pool[start + directory.count..<start + directory.count + separator.count].elementsEqual(separator),
                pool[(start + directory.count + separator.count)..<(start + length)].elementsEqual(name)
            {
                return index
            }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// The entry for a path under the root, if a list names it.
    func entry(path: HostPath) -> Int? {
        let bytes = path.bytes
        guard let slash = bytes.lastIndex(of: 0x2F) else { return nil }
        let directory = slash == 0 ? [0x2F] : Array(bytes[..<slash])
        return Array(bytes[(slash + 1)...]).withUnsafeBufferPointer { entry(directory: directory, name: $0) }
    }

    func package(of entry: Int) -> Package { packages[Int(owners[entry])] }

    func owner(of entry: Int) -> Owner {
        var path = Array(pool[Int(starts[entry])..<Int(starts[entry + 1])])
        let alias = Int(aliases[entry])
        if alias >= 0 { path = mergedUsr[alias].alias + path.dropFirst(mergedUsr[alias].usr.count) }
        return Owner(package: Int(owners[entry]), listedAs: path)
    }

    /// The path of an entry as it is on disk (under /usr on merged /usr).
    func path(of entry: Int) -> HostPath { HostPath(bytes: Array(pool[Int(starts[entry])..<Int(starts[entry + 1])])) }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    private struct Diversions {
        /// Diverted paths and who diverted them (":" for a local diversion).
        var diverted: [[UInt8]: String] = [:]
        /// Where diverted files were moved to.
        var targets: Set<[UInt8]> = []
    }

    /// /var/lib/dpkg/diversions: three lines per diversion (from, to, the package that diverts
    /// or ":" for a local one). One that cannot be read diverts nothing, with an issue.
    private static func readDiversions(_ root: HostRoot, _ issues: inout [FactIssue]) -> Diversions {
        var diversions = Diversions()
        let bytes: [UInt8]
        do {
            guard let present = try root.readFileIfPresent(DpkgFileOwnership.diversionsPath, limit: 16 << 20) else {
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
            diversions.diverted[Array(lines[index])] = String(decoding: lines[index + 2], as: UTF8.self)
            diversions.targets.insert(Array(lines[index + 1]))
            index += 3
        }
        return diversions
    }

    /// On a merged-/usr root (/bin a symlink to usr/bin), a list's /bin/ls is the file /usr/bin/ls.
    private static func mergedUsrAliases(_ root: HostRoot) -> [(usr: [UInt8], alias: [UInt8])] {
        var aliases: [(usr: [UInt8], alias: [UInt8])] = []
        guard let top = try? root.directory("/") else { return aliases }
        for name in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            guard let target = try? top.readLink(FileName(name)) else { continue }
            let text = target.display
            if text == "usr/" + name || text == "/usr/" + name {
                aliases.append((Array("/usr/\(name)/".utf8), Array("/\(name)/".utf8)))
            }
        }
        return aliases
    }
}
