import CRootedIO
import Synchronization
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// What changed on the file systems a walk read, since the walk last asked: a fanotify group
/// that marks each whole file system (FAN_MARK_FILESYSTEM) and reports, for every change, the
/// file handle of what changed and of its directory. A thread of its own reads the kernel's
/// queue as it fills and keeps each handle once, so a build writing a million times between two
/// checks costs a set of the directories it wrote to, not a million events held in the kernel.
/// That thread also answers each drain, so the journal never depends on a caller's permissions.
///
/// The journal only ever widens what is read again: a lost event (the kernel's queue overflowed),
/// more distinct changes than it keeps, or a file that gained a name (the kernel reports a link
/// count change without the directory) all mean "read everything". Needs CAP_SYS_ADMIN (the agent's).
public final class ChangeJournal: @unchecked Sendable {
    /// A file or directory as the journal names it: the file system's id (8 bytes) followed by
    /// the handle's type and bytes, exactly as fanotify reports them.
    public typealias Key = [UInt8]

    /// A key as the walk keeps it: 64 bits, the same for the same key within this process. Two
    /// keys with one digest only make a directory be read again, never taken unread.
    static func digest(_ key: some Collection<UInt8>) -> UInt64 {
        var hasher = Hasher()
        if key.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            Array(key).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// What was drained since the last time.
    public struct Changes: Sendable {
        /// Nothing can be vouched for (why, for the counts): read everything again.
        public var everything: String?
        /// Every directory and file a change touched or was made in.
        public var touched: Set<Key> = []
        /// Files changed without a directory to say where (their link count changed): only
        /// their link count now says whether they have a name a walk could miss.
        var files: Set<Key> = []

        /// Both, as one drain: what one vouches for nothing stays so.
        func merged(with other: Changes) -> Changes {
            Changes(
                everything: everything ?? other.everything, touched: touched.union(other.touched),
                files: files.union(other.files))
        }
    }

    /// Where a drain and the journal's thread meet: a drain asks, the thread answers. Drains are
    /// numbered, so a drain takes only an answer given after it asked; an answer a drain did not
    /// wait for is merged into the next, never dropped.
    private struct HandOver {
        var asked: UInt64 = 0
        var answeredUpTo: UInt64 = 0
        var answer: Changes?
        /// The thread has ended: nothing will answer again.
        var ended = false
    }

    // The descriptors are set before the thread starts and closed after it ended.
    private let journal: Int32
    /// Wakes the thread, to stop or to drain; its read end does not block.
    private let wake: (read: Int32, write: Int32)
    /// The thread's byte to a waiting drain: its answer is in `handOver`.
    private let answered: (read: Int32, write: Int32)
    private let capacity: Int
    private let handOver = Mutex(HandOver())
    /// One drain at a time: each waits for its own answer.
    private let draining = Mutex(())
    /// Per file system (by id): the path of a directory on it, opened to look files up by handle.
    /// Paths, not descriptors: an open descriptor would keep a user's mount busy.
    private let mounts = Mutex([[UInt8]: [UInt8]]())
    private let marked = Mutex(Set<[UInt8]>())
    /// The reading thread until `stop` joins it.
    private let thread = Mutex<pthread_t?>(nil)
    private let stopping = Atomic<Bool>(false)
    /// How many lookups a drain makes between two reads of the kernel's queue, which must not fill.
    private static let lookupsBetweenReads = 256

    /// nil when the kernel refuses a journal (not privileged, no fanotify): every walk then reads all.
    /// `capacity` bounds the distinct handles kept between two drains.
    public init?(capacity: Int = 1 << 17) {
        journal = tenken_journal_open()
        guard journal >= 0 else { return nil }
        var first: [Int32] = [-1, -1]
        var second: [Int32] = [-1, -1]
        guard pipe(&first) == 0 else {
            close(journal)
            return nil
        }
        guard pipe(&second) == 0 else {
            for end in [journal] + first { close(end) }
            return nil
        }
        let ends = first + second
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        wake = (ends[0], ends[1])
        answered = (ends[2], ends[3])
        self.capacity = capacity
        let context = Unmanaged.passRetained(self).toOpaque()
        var created = pthread_t()
        guard
            pthread_create(
                &created, nil,
                { raw in
                    let journal = Unmanaged<ChangeJournal>.fromOpaque(raw!).takeRetainedValue()
                    journal.run()
                    return nil
                }, context) == 0
        else {
            // Every property is set: returning nil runs deinit, which closes the descriptors.
            Unmanaged<ChangeJournal>.fromOpaque(context).release()
            return nil
        }
        thread.withLock { $0 = created }
    }

    deinit {
        for end in [journal, wake.read, wake.write, answered.read, answered.write] { close(end) }
    }

    /// Ends the reading thread; the journal then reports everything as changed.
    public func stop() {
        // Joined even when it ended on its own (the kernel's queue could not be polled).
        let taken = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        guard let running = taken else { return }
        stopping.store(true, ordering: .sequentiallyConsistent)
        var one: UInt8 = 1
        _ = write(wake.write, &one, 1)
        pthread_join(running, nil)
    }

    /// Starts journaling the file system that holds the open directory `fd`, whose id is
    /// `fileSystem`. False when that file system cannot be journaled (its directories are then
    /// read by every walk).
    func mark(_ fd: Int32, fileSystem: [UInt8]) -> Bool {
        guard !stopping.load(ordering: .sequentiallyConsistent), tenken_journal_mark(journal, fd) == 0 else {
            return false
        }
        _ = marked.withLock { $0.insert(fileSystem) }
        var link = [UInt8](repeating: 0, count: 4096)
        let length = link.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlink("/proc/self/fd/\(fd)", $0.baseAddress!, $0.count) }
        }
        if length > 0 && length < link.count {
            let path = Array(link[0..<length])
            mounts.withLock { known in if known[fileSystem] == nil { known[fileSystem] = path } }
        }
        return true
    }

    /// Whether the file system with this id is journaled.
    func isMarked(_ fileSystem: [UInt8]) -> Bool { marked.withLock { $0.contains(fileSystem) } }

    /// What changed since the last drain, and starts collecting anew. The journal's own thread
    /// reads the kernel's queue and looks files up, never the caller's: a walk may run with this
    /// thread's permissions narrowed (another file-system uid), and looking a file up by handle
    /// needs the process's CAP_DAC_READ_SEARCH.
    func drain() -> Changes {
        draining.withLock { _ in
            let stopped = Changes(everything: "the journal stopped")
            let number = handOver.withLock { state -> UInt64? in
                guard !state.ended else { return nil }
                state.asked += 1
                return state.asked
            }
            var one: UInt8 = 1
            guard let number, write(wake.write, &one, 1) == 1 else { return stopped }
            while true {
                var byte: UInt8 = 0
                let count = read(answered.read, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                let taken = handOver.withLock { state -> Changes? in
                    guard state.answeredUpTo >= number, let answer = state.answer else {
                        return state.ended ? stopped : nil
                    }
                    state.answer = nil
                    return answer
                }
                if let taken { return taken }
                if count <= 0 { return stopped }
            }
        }
    }

    /// The journal's thread: keeps what the kernel reports until a drain takes it.
    private func run() {
        var current = Changes()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 8)
        defer { buffer.deallocate() }
        while !stopping.load(ordering: .sequentiallyConsistent) {
            var descriptors = [
                pollfd(fd: journal, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&descriptors, 2, -1) >= 0 || errno == EINTR else { break }
            var byte: UInt8 = 0
            while read(wake.read, &byte, 1) > 0 {}
            if stopping.load(ordering: .sequentiallyConsistent) { break }
            // Asked first, read after: fanotify queues an event within the call that made the
            // change, so a change whose call returned before the drain asked is in its answer.
            let asked = handOver.withLock { $0.asked > $0.answeredUpTo ? $0.asked : nil }
            absorbPending(&current, buffer)
            guard let asked else { continue }
            var next = Changes()
            hand(finished(current, meanwhile: &next, buffer), upTo: asked)
            current = next
        }
        // A journal that no longer reads vouches for nothing.
        stopping.store(true, ordering: .sequentiallyConsistent)
        handOver.withLock { $0.ended = true }
        wakeDrain()
    }

    /// Hands the drains up to `number` their answer, and wakes the one waiting.
    private func hand(_ changes: Changes, upTo number: UInt64) {
        handOver.withLock { state in
            state.answer = state.answer.map { $0.merged(with: changes) } ?? changes
            state.answeredUpTo = number
        }
        wakeDrain()
    }

    private func wakeDrain() {
        var one: UInt8 = 1
        _ = write(answered.write, &one, 1)
    }

    /// The changes as a drain takes them. A file whose link count changed is looked up: if it
    /// now has more than one name, one of them may be in a directory nothing else touched, so
    /// everything is read again. (A walk reads every time the directories that hold a file with
    /// several names.) What the kernel reports meanwhile goes to `next`, for the next drain.
    private func finished(
        _ kept: Changes, meanwhile next: inout Changes, _ buffer: UnsafeMutableRawBufferPointer
    ) -> Changes {
        var changes = kept
        guard changes.everything == nil else { return changes }
        var anchors: [[UInt8]: Int32] = [:]
        defer { for anchor in anchors.values { close(anchor) } }
        for (index, file) in changes.files.enumerated() {
            if index % Self.lookupsBetweenReads == Self.lookupsBetweenReads - 1 { absorbPending(&next, buffer) }
            if let reason = otherNames(file, anchors: &anchors) {
                changes.everything = reason
                break
            }
        }
        changes.files = []
        return changes
    }

    /// Why a file whose link count changed matters (nil when it does not): it has other
    /// names, or it could not be looked up.
    /// `anchors` keeps, per file system, the directory opened to look its files up (closed by the caller).
    private func otherNames(_ file: Key, anchors: inout [[UInt8]: Int32]) -> String? {
        guard file.count > 12 else { return "a change without a usable file handle" }
        let fileSystem = Array(file[0..<8])
        let anchor: Int32
        if let opened = anchors[fileSystem] {
            anchor = opened
        } else {
            guard let path = mounts.withLock({ $0[fileSystem] }) else { return "a change on an unknown file system" }
            // open_by_handle_at refuses an O_PATH descriptor as its anchor.
            anchor = FileName(bytes: path).withCString { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard anchor >= 0 else { return "a changed file on a file system no longer where it was" }
            anchors[fileSystem] = anchor
        }
        var info = stat()
        let handle = Array(file[8...])
        guard tenken_stat_by_handle(anchor, handle, Int32(handle.count), &info) == 0 else {
            // Removed since: its names are gone with it (the removal was journaled in its directory).
            return errno == ESTALE || errno == ENOENT ? nil : "a changed file that cannot be looked up (errno \(errno))"
        }
        let directory = (info.st_mode & S_IFMT) == S_IFDIR
        return !directory && info.st_nlink > 1 ? "a file with several names changed" : nil
    }

    /// Reads what the kernel's queue holds into `current`.
    private func absorbPending(_ current: inout Changes, _ buffer: UnsafeMutableRawBufferPointer) {
        while true {
            let count = read(journal, buffer.baseAddress, buffer.count)
            if count <= 0 {
                if count < 0 && errno != EAGAIN && errno != EINTR { current.everything = "the journal cannot be read" }
                return
            }
            guard current.everything == nil else { continue }
            let batch = JournalEvents.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            if let reason = batch.everything { current.everything = reason }
            current.touched.formUnion(batch.touched)
            current.files.formUnion(batch.files)
            if current.touched.count + current.files.count > capacity {
                current = Changes(everything: "more than \(capacity) changes")
            }
        }
    }
}

/// The records of a batch of fanotify events (FAN_REPORT_FID | FAN_REPORT_DFID_NAME), read as
/// the kernel's uapi lays them out; a record that does not parse ends the batch as "everything".
enum JournalEvents {
    static func parse(_ bytes: UnsafeRawBufferPointer) -> ChangeJournal.Changes {
        var changes = ChangeJournal.Changes()
        var offset = 0
        // struct fanotify_event_metadata: event_len u32, vers u8, reserved u8, metadata_len u16,
        // mask u64, fd s32, pid s32.
        while offset + 24 <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let metadata = Int(bytes.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            guard length >= metadata, metadata >= 24, offset + length <= bytes.count else {
                changes.everything = "an event that does not parse"
                return changes
            }
            if mask & tenken_journal_overflow != 0 {
                changes.everything = "the kernel's event queue overflowed"
                return changes
            }
            var object: ChangeJournal.Key?
            var directory: ChangeJournal.Key?
            var record = offset + metadata
            while record + 4 <= offset + length {
                // struct fanotify_event_info_header: info_type u8, pad u8, len u16; then fsid
                // (8 bytes) and struct file_handle (handle_bytes u32, handle_type s32, bytes).
                let type = bytes[record]
                let size = Int(bytes.loadUnaligned(fromByteOffset: record + 2, as: UInt16.self))
                guard size >= 4, record + size <= offset + length else {
                    changes.everything = "an event that does not parse"
                    return changes
                }
                if type == 1 || type == 2 || type == 3, size >= 20 {
                    let handleBytes = Int(bytes.loadUnaligned(fromByteOffset: record + 12, as: UInt32.self))
                    guard 20 + handleBytes <= size else {
                        changes.everything = "an event that does not parse"
                        return changes
                    }
                    // fsid, then the handle's type and bytes (the byte count is implied by the key's length).
                    let key =
                        Array(bytes[(record + 4)..<(record + 12)])
                        + Array(bytes[(record + 16)..<(record + 20 + handleBytes)])
                    if type == 1 { object = key } else { directory = key }
                }
                record += size
            }
            if let directory { changes.touched.insert(directory) }
            if let object {
                changes.touched.insert(object)
                if mask & tenken_journal_on_directory == 0 && directory == nil { changes.files.insert(object) }
            }
            if object == nil && directory == nil { changes.everything = "an event without a file handle" }
            offset += length
        }
        return changes
    }
}
