import Crypto
import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// fanotify with file handles needs CAP_SYS_ADMIN: tests run as root, as CI does.
private enum Journaling {
    static let available = CheckMemory().isJournaling
}

/// The agent's memory of the program walk: a directory is taken from the previous walk only
/// while the change journal (real fanotify, on the file systems the fixture lives on) saw no
/// change in it. Every way of putting a program where the walk looks is seen by the next check,
/// and after each, the journaled walk finds exactly what a full walk of the same tree finds.
@Suite("change journal", .serialized, .enabled(if: Journaling.available))
struct ChangeJournalTests {
    private let scratch: ScratchTree
    private let root: HostRoot
    private let request: HostFacts.Request
    private let client: [UInt8]

    init() throws {
        scratch = try Fixture.copy("debian-clean")
        root = try HostRoot(scratch.path)
        request = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get().factRequest
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("ctorrent", into: unpacked.path)
        client = try unpacked.read("usr/bin/ctorrent")
        try scratch.write("home/alice/Documents/report.txt", "text")
        try scratch.write("home/alice/bin/tool", [0x7F, 0x45, 0x4C, 0x46], mode: 0o755)
    }

    /// One check with the memory, checked against a full walk of the same tree.
    private func check(_ memory: CheckMemory, _ comment: Comment) -> HostFacts {
        var remembering = request
        remembering.memory = memory
        let journaled = HostFacts.collect(from: root, request: remembering)
        let full = HostFacts.collect(from: root, request: request)
        #expect(journaled.executables.map(\.path) == full.executables.map(\.path), comment)
        #expect(
            journaled.programCandidates.map { [$0.path.display, "\($0.identity.map(\.inode) ?? 0)"] }
                == full.programCandidates.map { [$0.path.display, "\($0.identity.map(\.inode) ?? 0)"] }, comment)
        #expect(
            journaled.programCandidates.map(\.identity) == full.programCandidates.map(\.identity), comment)
        #expect(journaled.issues.map(\.message.en) == full.issues.map(\.message.en), comment)
        #expect(
            journaled.inspectedPrograms.map(\.file.path) == full.inspectedPrograms.map(\.file.path), comment)
        return journaled
    }

    private func found(_ facts: HostFacts, _ path: String) -> Bool {
        facts.inspectedPrograms.contains { $0.file.path == path }
    }

    @Test("an unchanged tree is taken, not read; a change is read in its directory only")
    func unchangedIsTaken() throws {
        let memory = CheckMemory()
        let first = check(memory, "first")
        #expect(first.walkCounts.fullWalk == "the first walk")
        #expect(first.walkCounts.directoriesTaken == 0 && first.walkCounts.directoriesRead > 0)
        let second = check(memory, "second")
        #expect(second.walkCounts.fullWalk == nil)
        #expect(second.walkCounts.directoriesRead == 0, "\(second.walkCounts)")
        #expect(second.walkCounts.directoriesTaken == first.walkCounts.directoriesRead)

        try scratch.write("home/alice/bin/notes", client, mode: 0o755)
        let third = check(memory, "a client added")
        #expect(found(third, "/home/alice/bin/notes"))
        #expect(third.walkCounts.directoriesRead == 1, "\(third.walkCounts)")
        #expect(check(memory, "after").walkCounts.directoriesRead == 0)
    }

    @Test("each way of putting a client where the walk looks is seen by the next check")
    func everyWayIn() throws {
        let memory = CheckMemory()
        _ = check(memory, "first")
        _ = check(memory, "second")
        let ways: [(String, String, () throws -> Void)] = [
            (
                "a new directory tree", "/home/alice/.local/share/x/y/z/helper",
                { try scratch.write("home/alice/.local/share/x/y/z/helper", client, mode: 0o755) }
            ),
            (
                "copied over a program in place (same inode; its directory does not change)", "/home/alice/bin/tool",
                {
                    let handle = try #require(FileHandle(forWritingAtPath: scratch.path + "/home/alice/bin/tool"))
                    try handle.truncate(atOffset: 0)
                    try handle.write(contentsOf: client)
                    try handle.close()
                }
            ),
            (
                "a file made executable", "/home/alice/Documents/report.txt",
                {
                    try scratch.write("home/alice/Documents/report.txt", client)
                    _ = check(memory, "written, not executable")
                    chmod(scratch.path + "/home/alice/Documents/report.txt", 0o755)
                }
            ),
            (
                "a directory moved in from a place the walk does not read", "/home/alice/moved/run",
                {
                    try scratch.write("var/lib/stash/run", client, mode: 0o755)
                    _ = check(memory, "stashed")
                    try FileManager.default.moveItem(
                        atPath: scratch.path + "/var/lib/stash", toPath: scratch.path + "/home/alice/moved")
                }
            ),
        ]
        for (way, path, make) in ways {
            try make()
            let facts = check(memory, Comment(rawValue: way))
            #expect(found(facts, path), Comment(rawValue: way))
            #expect(facts.walkCounts.fullWalk == nil, Comment(rawValue: way))
        }
    }

    @Test("a subdirectory that cannot be opened stays a gap in every later check, never dropped from its parent")
    func unopenableStaysAGap() throws {
        try scratch.write("var/lib/state", "old")
        let memory = CheckMemory()
        _ = check(memory, "first")
        _ = check(memory, "second")
        chmod(scratch.path + "/home/alice/bin", 0)
        defer { chmod(scratch.path + "/home/alice/bin", 0o755) }
        // As the nobody user on this thread only (the file-system uid is per thread, and giving up
        // uid 0 there drops the capability to read past permissions), with the journal still on.
        let gap = "/home/alice/bin: permission denied"
        // The journal sees every change on the file system, and its own thread looks changed files
        // up with root's capabilities, so what other tests do meanwhile is no reason to walk
        // everything. A mount they make is: the gap must be there either way, and one round in a
        // few is enough to see the kept walk.
        var keptWalk = false
        var reasons: [String] = []
        for _ in 0..<5 where !keptWalk {
            // Replaced by a rename, as every atomic write does: the kernel reports the replaced file
            // alone, and only a lookup by its handle, which nobody cannot make, says it is gone.
            try scratch.write("var/lib/state.new", "new")
            #expect(rename(scratch.path + "/var/lib/state.new", scratch.path + "/var/lib/state") == 0)
            let facts = try FileSystemUser.nobody { [check] in
                (check(memory, "made unreadable"), check(memory, "nothing changed since"), check(memory, "and again"))
            }
            for (index, checked) in [facts.0, facts.1, facts.2].enumerated() {
                #expect(checked.issues.contains { $0.message.en == gap }, "check \(index): \(checked.issues)")
            }
            reasons += [facts.0, facts.1, facts.2].compactMap(\.walkCounts.fullWalk)
            keptWalk = [facts.0, facts.1, facts.2].allSatisfy { $0.walkCounts.fullWalk == nil }
            if keptWalk { #expect(facts.2.walkCounts.directoriesRead >= 1, "the parent of the gap is read each time") }
        }
        #expect(keptWalk, "every round walked everything: \(reasons)")
    }

    @Test("a home inside another walked tree that stops being a home is walked as part of that tree")
    func homeNoLongerAHome() throws {
        let passwd = String(decoding: try scratch.read("etc/passwd"), as: UTF8.self)
        try scratch.write("etc/passwd", passwd + "app:x:1001:1001::/srv/app:/bin/sh\n")
        try scratch.write("srv/app/bin/helper", client, mode: 0o755)
        let memory = CheckMemory()
        _ = check(memory, "first")
        #expect(found(check(memory, "second"), "/srv/app/bin/helper"))
        // userdel without --remove: the files stay, /srv does not change.
        try scratch.write("etc/passwd", passwd)
        let after = check(memory, "no longer a home")
        #expect(found(after, "/srv/app/bin/helper"))
        #expect(after.walkCounts.fullWalk == nil)
    }

    @Test("the entry bound met inside an unchanged directory: what a full walk finds before the cut is found")
    func boundInsideTakenDirectory() throws {
        for tree in ["one", "two"] {
            for number in 0..<200 {
                try scratch.write("usr/libexec/p/\(tree)/tool-\(number)", "#!/bin/sh\n", mode: 0o755)
            }
        }
        // The bound is per start: /usr/libexec is the largest, and the smallest bound that cuts
        // nothing is its size. The directory walked first (readdir's order) gets more entries.
        let order = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/usr/libexec/p")
        let (first, last) = (order[0], order[1])
        func cut(_ limit: Int) -> Bool {
            var bounded = request
            bounded.walkEntryLimit = limit
            return HostFacts.collect(from: root, request: bounded).issues.contains { $0.kind == .cutShort }
        }
        var low = 1
        var high = 1 << 20
        while low < high {
            let middle = (low + high) / 2
            if cut(middle) { low = middle + 1 } else { high = middle }
        }
        let memory = CheckMemory()
        var bounded = request
        bounded.walkEntryLimit = low
        bounded.memory = memory
        func boundedCheck(_ comment: Comment) -> HostFacts {
            let journaled = HostFacts.collect(from: root, request: bounded)
            var full = bounded
            full.memory = nil
            let fresh = HostFacts.collect(from: root, request: full)
            #expect(journaled.programCandidates.map(\.path) == fresh.programCandidates.map(\.path), comment)
            #expect(journaled.issues.map(\.message.en) == fresh.issues.map(\.message.en), comment)
            return journaled
        }
        _ = boundedCheck("first")
        #expect(boundedCheck("second").walkCounts.directoriesTaken > 0)
        // 100 more entries in the directory walked first: the bound now falls inside the other,
        // which did not change.
        for number in 0..<100 { try scratch.write("usr/libexec/p/\(first)/file-\(number)", "") }
        let facts = boundedCheck("bound inside an unchanged directory")
        #expect(facts.issues.contains { $0.kind == .cutShort })
        #expect(facts.programCandidates.contains { $0.path.display.hasPrefix("/usr/libexec/p/\(last)/") })
    }

    @Test("a file with another name outside the walked trees is watched itself; a new name means a full walk")
    func hardLinks() throws {
        try scratch.write("home/alice/Documents/linked", client)
        try FileManager.default.createDirectory(atPath: scratch.path + "/var/lib/x", withIntermediateDirectories: true)
        #expect(link(scratch.path + "/home/alice/Documents/linked", scratch.path + "/var/lib/x/other") == 0)
        try scratch.write("home/alice/Documents/single", client)
        let memory = CheckMemory()
        _ = check(memory, "first")
        _ = check(memory, "second")
        // Made executable through the name the walk does not read.
        chmod(scratch.path + "/var/lib/x/other", 0o755)
        let facts = check(memory, "made executable through its other name")
        #expect(found(facts, "/home/alice/Documents/linked"))
        // A second name given after the walk, then used.
        #expect(link(scratch.path + "/home/alice/Documents/single", scratch.path + "/var/lib/x/late") == 0)
        chmod(scratch.path + "/var/lib/x/late", 0o755)
        let late = check(memory, "a name given after the walk")
        #expect(found(late, "/home/alice/Documents/single"))
        #expect(late.walkCounts.fullWalk == "a file with several names changed")
    }

    @Test("a mount over a directory, lost events, a changed policy and the daily walk read everything")
    func fullWalks() throws {
        let memory = CheckMemory()
        _ = check(memory, "first")
        _ = check(memory, "second")
        let mountPoint = scratch.path + "/home/alice/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        _ = check(memory, "a directory to mount on")
        // The journal needs CAP_SYS_ADMIN, which is also what mounting takes.
        let mounted = try run(["/usr/bin/mount", "-t", "tmpfs", "-o", "size=16m", "tenken-test", mountPoint])
        try #require(mounted.status == 0, "\(mounted.error)")
        var unmounted = false
        defer { if !unmounted { _ = try? run(["/usr/bin/umount", "--lazy", mountPoint]) } }
        try scratch.write("home/alice/mnt/client", client, mode: 0o755)
        let facts = check(memory, "mounted")
        #expect(facts.walkCounts.fullWalk == "the mounts changed")
        #expect(found(facts, "/home/alice/mnt/client"))
        // The tmpfs is journaled from then on.
        try scratch.write("home/alice/mnt/second", client, mode: 0o755)
        let next = check(memory, "on the mounted file system")
        #expect(next.walkCounts.fullWalk == nil)
        #expect(next.walkCounts.directoriesRead == 1)
        #expect(found(next, "/home/alice/mnt/second"))
        // The journal holds nothing open on it: a user's mount can still be unmounted.
        let unmounting = try run(["/usr/bin/umount", mountPoint])
        #expect(unmounting.status == 0, "\(unmounting.error)")
        unmounted = unmounting.status == 0
        #expect(check(memory, "unmounted").walkCounts.fullWalk == "the mounts changed")

        let small = CheckMemory(journalCapacity: 8)
        _ = check(small, "first")
        for index in 0..<20 { try scratch.write("home/alice/many/\(index)", "") }
        #expect(check(small, "many changes").walkCounts.fullWalk == "more than 8 changes")

        let daily = CheckMemory(fullWalkInterval: 0)
        _ = check(daily, "first")
        #expect(check(daily, "second").walkCounts.fullWalk == "due for a full walk")

        var other = request
        other.programNames = ["something-else"]
        other.memory = memory
        #expect(
            HostFacts.collect(from: root, request: other).walkCounts.fullWalk == "the policy asks for other programs")

        memory.stop()
        #expect(check(memory, "stopped").walkCounts.fullWalk == "the journal stopped")
    }
}

/// What else the agent keeps between checks: dpkg's ownership answers while the journal vouches
/// for dpkg's database, the content and lists caches in memory, and apt read for tags only when
/// no rule needs pending updates.
@Suite("agent memory", .serialized, .enabled(if: Journaling.available))
struct AgentMemoryTests {
    @Test("dpkg's answers are kept until its database changes, even by an edit in place")
    func ownershipKept() throws {
        let scratch = try Fixture.copy("debian-clean")
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("ctorrent", into: unpacked.path)
        let client = try unpacked.read("usr/bin/ctorrent")
        // A client under /usr/lib that a package's list claims, with its md5sum: dpkg's own file.
        let listPath = "var/lib/dpkg/info/coreutils.list"
        let sumsPath = "var/lib/dpkg/info/coreutils.md5sums"
        let list = "/.\n/usr\n/usr/lib\n/usr/lib/coreutils\n"
        try scratch.write("usr/lib/coreutils/helper", client, mode: 0o755)
        try scratch.write(listPath, list + "/usr/lib/coreutils/helper\n")
        let digest = Insecure.MD5.hash(data: client).map { String(format: "%02x", $0) }.joined()
        try scratch.write(sumsPath, "\(digest)  usr/lib/coreutils/helper\n")
        var request = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get().factRequest
        let memory = CheckMemory()
        request.memory = memory
        let root = try HostRoot(scratch.path)
        let first = HostFacts.collect(from: root, request: request)
        #expect(first.walkCounts.dpkgListsRead)
        #expect(!first.inspectedPrograms.contains { $0.file.path == "/usr/lib/coreutils/helper" })
        let second = HostFacts.collect(from: root, request: request)
        #expect(!second.walkCounts.dpkgListsRead)
        // The claim taken out of the list, in place (same file, no rename): the next check asks again.
        let handle = try #require(FileHandle(forWritingAtPath: scratch.path + "/" + listPath))
        try handle.truncate(atOffset: UInt64(list.utf8.count))
        try handle.close()
        let third = HostFacts.collect(from: root, request: request)
        #expect(third.walkCounts.dpkgListsRead)
        #expect(third.inspectedPrograms.contains { $0.file.path == "/usr/lib/coreutils/helper" })
    }

    @Test("the content cache is kept in memory and written only when it changed")
    func contentCacheInMemory() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("home/alice/bin/tool", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1], mode: 0o755)
        // An owned file a client was copied over: both its checksum and its inspection are kept.
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("ctorrent", into: unpacked.path)
        try scratch.write("usr/bin/dircolors", try unpacked.read("usr/bin/ctorrent"), mode: 0o755)
        let installed = Insecure.MD5.hash(data: Array("dircolors as installed\n".utf8))
        try scratch.write("var/lib/dpkg/info/coreutils.list", "/.\n/usr\n/usr/bin\n/usr/bin/dircolors\n")
        try scratch.write(
            "var/lib/dpkg/info/coreutils.md5sums",
            installed.map { String(format: "%02x", $0) }.joined() + "  usr/bin/dircolors\n")
        for file in ["coreutils.list", "coreutils.md5sums"] {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -3600)],
                ofItemAtPath: scratch.path + "/var/lib/dpkg/info/" + file)
        }
        let stateTree = try ScratchTree()
        var request = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get().factRequest
        request.cacheDirectory = try StateDirectory(stateTree.path + "/state")
        request.memory = CheckMemory()
        let root = try HostRoot(scratch.path)
        let first = HostFacts.collect(from: root, request: request)
        #expect(first.contentCounts.fromCache == 0 && first.contentCounts.inspected > 0)
        #expect(first.contentCounts.verifiedByChecksum == 1)
        #expect(first.inspectedPrograms.contains { $0.file.path == "/usr/bin/dircolors" })
        let cacheFile = stateTree.path + "/state/content-cache"
        let written = try FileManager.default.attributesOfItem(atPath: cacheFile)[.systemFileNumber] as? Int
        let second = HostFacts.collect(from: root, request: request)
        // Every inspection, and the checksum, from the cache.
        #expect(second.contentCounts.fromCache == first.contentCounts.inspected + 1)
        #expect(second.inspectedPrograms.contains { $0.file.path == "/usr/bin/dircolors" })
        // Nothing learned: the file is the one the first check wrote.
        #expect(try FileManager.default.attributesOfItem(atPath: cacheFile)[.systemFileNumber] as? Int == written)
        // Not read again: the memory holds it.
        try FileManager.default.removeItem(atPath: cacheFile)
        #expect(
            HostFacts.collect(from: root, request: request).contentCounts.fromCache
                == first.contentCounts.inspected + 1)
    }

    @Test("apt is read for tags only unless a rule needs pending updates")
    func tagsOnly() throws {
        let policy = try PolicyLoader.loadDefault()
        let software = try policy.selecting(["no-p2p-software"]).get().factRequest
        #expect(!software.pendingUpdates)
        let patches = policy.factRequest
        #expect(patches.pendingUpdates)
        let root = try Fixture.root("workstation")
        let tags = HostFacts.collect(from: root, request: software)
        let full = HostFacts.collect(from: root, request: patches)
        #expect(tags.apt?.packageTags == full.apt?.packageTags)
        #expect(tags.apt?.listFiles == full.apt?.listFiles)
        #expect(tags.apt?.pendingUpdates.isEmpty == true)
        #expect(full.apt?.pendingUpdates.isEmpty == false)
    }
}

/// Runs work with this thread's file-system uid set to nobody's: permission checks as that user,
/// while the process (and the change journal's thread) keeps root's capabilities otherwise.
enum FileSystemUser {
    private typealias SetFileSystemUID = @convention(c) (UInt32) -> Int32

    static func nobody<T>(_ work: () throws -> T) throws -> T {
        // setfsuid is not in Swift's Glibc module; glibc exports it.
        let symbol = try #require(dlsym(nil, "setfsuid"))
        let setfsuid = unsafeBitCast(symbol, to: SetFileSystemUID.self)
        _ = setfsuid(65534)
        defer { _ = setfsuid(0) }
        return try work()
    }
}

@Suite("identity set")
struct IdentitySetTests {
    @Test("pairs are found once inserted, through growth, including zero; others are not")
    func insertAndFind() {
        var set = IdentitySet(capacity: 1)
        #expect(!set.contains(0, 0))
        let first = set.insert(0, 0)
        let second = set.insert(0, 0)
        #expect(first && !second, "a second insert says it was there")
        for device in 0..<50 {
            for inode in 0..<200 { set.insert(UInt64(device), UInt64(inode) << 32) }
        }
        #expect(set.count == 50 * 200)
        #expect(set.contains(49, 199 << 32) && set.contains(0, 0))
        #expect(!set.contains(50, 0) && !set.contains(0, 1) && !set.contains(1, 0 << 32 | 1))
        let digests = IdentitySet([7, 1 << 63, 0])
        #expect(digests.contains(7) && digests.contains(1 << 63) && digests.contains(0) && !digests.contains(8))
    }
}
