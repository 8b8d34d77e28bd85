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
    }

    // The descriptor and pipe are set before the thread starts and closed after it ended.
    private let journal: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private let capacity: Int
    private let state = Mutex(Changes())
    /// Where events are read into; used only with `state`'s lock held.
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 8)
    /// Per file system (by id): the path of a directory on it, opened to look files up by handle.
    /// Paths, not descriptors: an open descriptor would keep a user's mount busy.
    private let mounts = Mutex([[UInt8]: [UInt8]]())
    private let marked = Mutex(Set<[UInt8]>())
    private var thread: pthread_t?
    private let stopping = Atomic<Bool>(false)

    /// nil when the kernel refuses a journal (not privileged, no fanotify): every walk then reads all.
    /// `capacity` bounds the distinct handles kept between two drains.
    public init?(capacity: Int = 1 << 17) {
        journal = tenken_journal_open()
        guard journal >= 0 else { return nil }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            close(journal)
            return nil
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        stopPipe = (ends[0], ends[1])
        self.capacity = capacity
        let context = Unmanaged.passRetained(self).toOpaque()
        var created = pthread_t()
        guard
            pthread_create(
                &created, nil,
                { raw in
                    let journal = Unmanaged<ChangeJournal>.fromOpaque(raw!).takeRetainedValue()
                    journal.readEvents()
                    return nil
                }, context) == 0
        else {
            Unmanaged<ChangeJournal>.fromOpaque(context).release()
            close(journal)
            close(ends[0])
            close(ends[1])
            return nil
        }
        thread = created
    }

    deinit {
        buffer.deallocate()
        close(journal)
        close(stopPipe.read)
        close(stopPipe.write)
    }

    /// Ends the reading thread; the journal then reports everything as changed.
    public func stop() {
        guard let thread, !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        var one: UInt8 = 1
        _ = write(stopPipe.write, &one, 1)
        pthread_join(thread, nil)
        self.thread = nil
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

    /// What changed since the last drain, and starts collecting anew. A file whose link count
    /// changed is looked up: if it now has more than one name, one of them may be in a directory
    /// nothing else touched, so everything is read again. (A walk reads every time the directories
    /// that hold a file with several names.)
    func drain() -> Changes {
        var changes = state.withLock { current in
            defer { current = Changes() }
            absorbPending(&current)
            if stopping.load(ordering: .sequentiallyConsistent) { current.everything = "the journal stopped" }
            return current
        }
        guard changes.everything == nil else { return changes }
        for file in changes.files {
            if let reason = otherNames(file) {
                changes.everything = reason
                break
            }
        }
        changes.files = []
        return changes
    }

    /// Why a file whose link count changed matters (nil when it does not): it has other
    /// names, or it could not be looked up.
    private func otherNames(_ file: Key) -> String? {
        guard file.count > 12 else { return "a change without a usable file handle" }
        let fileSystem = Array(file[0..<8])
        guard let path = mounts.withLock({ $0[fileSystem] }) else { return "a change on an unknown file system" }
        // open_by_handle_at refuses an O_PATH descriptor as its anchor.
        let anchor = path.withUnsafeBufferPointer { bytes in
            FileName(bytes: Array(bytes)).withCString { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        guard anchor >= 0 else { return "a changed file on a file system no longer where it was" }
        defer { close(anchor) }
        var info = stat()
        let handle = Array(file[8...])
        guard tenken_stat_by_handle(anchor, handle, Int32(handle.count), &info) == 0 else {
            // Removed since: its names are gone with it (the removal was journaled in its directory).
            return errno == ESTALE || errno == ENOENT ? nil : "a changed file that cannot be looked up (errno \(errno))"
        }
        let directory = (info.st_mode & S_IFMT) == S_IFDIR
        return !directory && info.st_nlink > 1 ? "a file with several names changed" : nil
    }

    private func readEvents() {
        while !stopping.load(ordering: .sequentiallyConsistent) {
            var descriptors = [
                pollfd(fd: journal, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&descriptors, 2, -1) >= 0 || errno == EINTR else { break }
            if descriptors[1].revents != 0 { break }
            guard descriptors[0].revents != 0 else { continue }
            state.withLock { absorbPending(&$0) }
        }
        // A journal that no longer reads vouches for nothing.
        stopping.store(true, ordering: .sequentiallyConsistent)
    }

    /// Reads what the kernel's queue holds into `current`. Called with the lock held, by the
    /// thread and by `drain` alike, so that a change whose system call returned before a drain
    /// is in that drain: fanotify queues an event within the call that made the change.
    private func absorbPending(_ current: inout Changes) {
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
