import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Makes committed SQLite transactions durable by syncing the write-ahead log, outside the
/// single writer. With `synchronous = FULL` SQLite syncs inside every commit, and the whole
/// fleet waited on that (about 3 ms here) while the writer's real work took 1 ms a batch.
/// Now the writer commits with `synchronous = NORMAL` (frames written, not synced) and goes on
/// with the next batch while this syncs: one `fdatasync` of the WAL covers every commit that
/// finished before it started, and no report is acknowledged before such a sync.
///
/// Why that is enough: in WAL mode every committed page is in the WAL until a checkpoint, and
/// SQLite syncs the WAL before and the database after each checkpoint (also at NORMAL); the
/// WAL is rewritten from its start only after a checkpoint completed.
final class WALSync: Sendable {
    private let wal: WALFile
    private let syncs: GroupCommit<Void, Void>

    /// `path`: the WAL file (the database's path + "-wal").
    init(path: String) {
        let wal = WALFile(path: path)
        self.wal = wal
        syncs = GroupCommit(label: "tenken.wal-sync") { batch in
            let result = Result { try wal.sync() }
            return batch.map { _ in result }
        }
    }

    /// Returns once a sync that started after this call has finished.
    func sync() async throws {
        try await syncs.submit(())
    }

    /// Syncs finished so far.
    var completed: Int { wal.completed.load(ordering: .sequentiallyConsistent) }

    /// A sync that failed, with its errno (ENOSPC: the disk is full, `StorageFull`).
    struct Failed: Error, CustomStringConvertible {
        let code: Int32
        let description: String

        init(_ what: String) {
            code = errno
            description = "\(what): \(String(cString: strerror(code)))"
        }
    }
}

/// The WAL file's descriptor, reopened if the file was replaced since.
private final class WALFile: Sendable {
    let path: String
    private let file = Mutex<(descriptor: Int32, device: dev_t, inode: ino_t)?>(nil)
    let completed = Atomic<Int>(0)

    init(path: String) {
        self.path = path
    }

    deinit {
        file.withLock { if let open = $0 { close(open.descriptor) } }
    }

    func sync() throws {
        try file.withLock { file in
            var current = stat()
            guard stat(path, &current) == 0 else {
                // No WAL: SQLite removes it only after checkpointing it into the synced database.
                if errno == ENOENT { return }
                throw WALSync.Failed("cannot stat \(path)")
            }
            if let open = file, open.device != current.st_dev || open.inode != current.st_ino {
                close(open.descriptor)
                file = nil
            }
            if file == nil {
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw WALSync.Failed("cannot open \(path)")
                }
                var opened = stat()
                fstat(descriptor, &opened)
                file = (descriptor, opened.st_dev, opened.st_ino)
            }
            guard fdatasync(file!.descriptor) == 0 else {
                throw WALSync.Failed("fdatasync \(path)")
            }
        }
        completed.add(1, ordering: .sequentiallyConsistent)
    }
}
