import CRootedIO
import Synchronization
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// What the agent keeps between its checks so that a periodic check reads only what changed
/// since the last one: the program walk's directories, vouched for by a change journal. Without
/// a memory (`tenken check`), or when the kernel refuses a journal, every check reads everything.
///
/// A kept walk is dropped, and everything read again, when the journal cannot vouch for it: on
/// the first check, when events were lost, when the mounts changed (a mount over a directory
/// changes what is there without a change in it), when the policy asks for other programs,
/// when a walk was cut short, and at least once every `fullWalkInterval` seconds, because the
/// kernel does not journal a write through a shared mapping made after its writer closed the file.
public final class CheckMemory: Sendable {
    public let fullWalkInterval: Int
    let journal: ChangeJournal?
    private let kept = Mutex<KeptWalk?>(nil)
    private let mountTablePath: String
    private let drained = Mutex(Drained())
    /// What other sources keep between checks, by name, with the check that last vouched for it.
    private let slots = Mutex([String: (check: Int, value: any Sendable)]())

    /// The journal's changes as this check drained them.
    struct Drained: Sendable {
        /// Each drain starts a check: a source's memory is good for the check after the one it was made in.
        var check = 0
        var touched: Set<ChangeJournal.Key> = []
        /// Events were lost, or the walk read everything: nothing can be vouched for.
        var lost = true
    }

    struct KeptWalk: Sendable {
        let fingerprint: [String]
        let trees: [String: WalkedTree<ExecutableSource.WalkRecord>]
        let fileSystems: [UInt64: (id: [UInt8], journaled: Bool)]
        let mountTable: [UInt8]
        let fullWalkAt: Int
    }

    /// `journaling: false` keeps nothing (each check walks all). `mountTable` is read to see mounts
    /// change (the agent's own mount namespace is the machine's, less what systemd hides from it).
    /// `journalCapacity` bounds the distinct changes kept between two checks (more: read everything).
    public init(
        journaling: Bool = true, fullWalkInterval: Int = 86_400, mountTable: String = "/proc/self/mountinfo",
        journalCapacity: Int = 1 << 17
    ) {
        journal = journaling ? ChangeJournal(capacity: journalCapacity) : nil
        self.fullWalkInterval = fullWalkInterval
        mountTablePath = mountTable
    }

    deinit { journal?.stop() }

    /// Whether checks take unchanged directories from the memory (the kernel gave a journal).
    public var isJournaling: Bool { journal != nil }

    /// Ends the journal's thread; later checks read everything.
    public func stop() { journal?.stop() }

    /// What a walk starts from: the previous walk and the changes since, or an empty memory and
    /// why everything is read; nil when nothing is journaled.
    func walkMemory(
        fingerprint: [String], now: Int
    ) -> (memory: WalkMemory<ExecutableSource.WalkRecord>, mountTable: [UInt8], fullWalk: String?)? {
        guard let journal else { return nil }
        // The changes are drained first: whatever happens after this is journaled for the next walk.
        let changes = journal.drain()
        let mountTable = (try? LocalFile.read(atPath: mountTablePath, limit: 64 << 20)) ?? []
        let walking = kept.withLock { kept in
            var memory = WalkMemory<ExecutableSource.WalkRecord>(
                previous: [:], touched: IdentitySet(), journal: journal)
            let reason: String?
            if let last = kept {
                if let lost = changes.everything {
                    reason = lost
                } else if last.fingerprint != fingerprint {
                    reason = "the policy asks for other programs"
                } else if mountTable.isEmpty || mountTable != last.mountTable {
                    reason = "the mounts changed"
                } else if now < last.fullWalkAt || now - last.fullWalkAt >= fullWalkInterval {
                    reason = "due for a full walk"
                } else {
                    reason = nil
                }
                // A file system unmounted and another mounted in its place can reuse the device number.
                if !mountTable.isEmpty && mountTable == last.mountTable { memory.fileSystems = last.fileSystems }
                if reason == nil {
                    memory.previous = last.trees
                    memory.touched = IdentitySet(changes.touched.lazy.map { ChangeJournal.digest($0) })
                }
            } else {
                reason = "the first walk"
            }
            return (memory, mountTable, reason)
        }
        drained.withLock { now in
            now = Drained(check: now.check + 1, touched: changes.touched, lost: walking.2 != nil)
        }
        return walking
    }

    /// This check's number.
    var check: Int { drained.withLock { $0.check } }

    /// Whether the journal vouches that nothing in the directory at `path` under `root`, nor the
    /// directory itself, changed since the previous check: no event was lost, its file system is
    /// journaled, and no change was made in it. A file system seen for the first time is marked
    /// now, and vouched for from the next check on.
    func unchanged(_ root: HostRoot, directory path: String) -> Bool {
        guard let journal else { return false }
        let now = drained.withLock { $0 }
        guard !now.lost, let fd = try? root.open(path, flags: O_RDONLY | O_DIRECTORY) else { return false }
        defer { close(fd) }
        var id = [UInt8](repeating: 0, count: 8)
        guard tenken_file_system_id(fd, &id) == 0 else { return false }
        guard journal.isMarked(id) else {
            _ = journal.mark(fd, fileSystem: id)
            return false
        }
        var handle = [UInt8](repeating: 0, count: 4 + 128)
        let length = tenken_file_handle(fd, &handle, Int32(handle.count))
        return length > 0 && !now.touched.contains(id + handle[0..<Int(length)])
    }

    /// What a source kept in the previous check under `name`; nil when it kept nothing, or kept it
    /// in an earlier check (a check in between did not vouch for it), or kept something else.
    func kept<Value: Sendable>(_ name: String, as type: Value.Type, fromPreviousCheck: Bool = true) -> Value? {
        let current = check
        return slots.withLock { slots in
            guard let slot = slots[name], !fromPreviousCheck || slot.check + 1 == current else { return nil }
            return slot.value as? Value
        }
    }

    /// Keeps `value` under `name` for the next check.
    func keep(_ name: String, _ value: any Sendable) {
        let current = check
        slots.withLock { $0[name] = (current, value) }
    }

    /// Keeps what a walk saw for the next one; a walk cut short, or one the mounts changed under,
    /// is not kept.
    func keep(
        _ walk: TreeWalk<ExecutableSource.WalkRecord>, fingerprint: [String], mountTable: [UInt8], fullWalk: Bool,
        now: Int
    ) {
        let after = (try? LocalFile.read(atPath: mountTablePath, limit: 64 << 20)) ?? []
        kept.withLock { kept in
            guard walk.complete, !mountTable.isEmpty, after == mountTable else {
                kept = nil
                return
            }
            kept = KeptWalk(
                fingerprint: fingerprint, trees: walk.walked, fileSystems: walk.fileSystems, mountTable: mountTable,
                fullWalkAt: fullWalk ? now : kept?.fullWalkAt ?? now)
        }
    }
}
