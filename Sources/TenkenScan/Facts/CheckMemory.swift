import Synchronization
import TenkenBase

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

    struct KeptWalk: Sendable {
        let fingerprint: [String]
        let trees: [String: WalkedDirectory<ExecutableSource.WalkRecord>]
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
        return kept.withLock { kept in
            var memory = WalkMemory<ExecutableSource.WalkRecord>(previous: [:], touched: [], journal: journal)
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
                    memory.touched = changes.touched
                }
            } else {
                reason = "the first walk"
            }
            return (memory, mountTable, reason)
        }
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
