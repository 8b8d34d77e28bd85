import Synchronization
import TenkenBase
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// Tells the agent when what it checks changed on disk: dpkg's status (a package was
/// installed, removed or upgraded), apt's lists (new updates are known) and /etc/tenken (the
/// policy or the ledger was edited). inotify on a thread of its own; directories that do not
/// exist under the root are skipped.
public final class ChangeWatcher: @unchecked Sendable {
    public static let defaultDirectories = ["/var/lib/dpkg", "/var/lib/apt/lists", "/etc/tenken"]

    // Written before the thread starts, closed after it ended: the only state shared is `stopping`.
    private let inotify: Int32
    /// A pipe whose write end wakes the thread to stop.
    private let stopPipe: (read: Int32, write: Int32)
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?
    public private(set) var watched: [String] = []

    public init(root: String, directories: [String] = defaultDirectories) {
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        stopPipe = (ends[0], ends[1])
        let prefix = root == "/" ? "" : String(root.trimmingSuffix("/"))
        for directory in directories where inotify >= 0 {
            // Writes finished (dpkg and apt rename new files into place) and files removed.
            let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_CREATE)
            if inotify_add_watch(inotify, prefix + directory, mask) >= 0 { watched.append(directory) }
        }
    }

    deinit {
        stop()
        if inotify >= 0 { close(inotify) }
        if stopPipe.read >= 0 { close(stopPipe.read) }
        if stopPipe.write >= 0 { close(stopPipe.write) }
    }

    /// Calls `changed` after each batch of changes, until `stop()`.
    public func start(_ changed: @escaping @Sendable () -> Void) {
        guard inotify >= 0, stopPipe.read >= 0, !watched.isEmpty, thread == nil else { return }
        let context = Unmanaged.passRetained(Context(watcher: self, changed: changed)).toOpaque()
        var created = pthread_t()
        if pthread_create(
            &created, nil,
            { raw in
                let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                context.watcher.loop(context.changed)
                return nil
            }, context) == 0
        {
            thread = created
        } else {
            Unmanaged<Context>.fromOpaque(context).release()
        }
    }

    public func stop() {
        guard let thread, !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        var one: UInt8 = 1
        _ = write(stopPipe.write, &one, 1)
        pthread_join(thread, nil)
        self.thread = nil
    }

    private func loop(_ changed: @Sendable () -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            var descriptors = [
                pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&descriptors, 2, -1) >= 0 || errno == EINTR else { return }
            if descriptors[1].revents != 0 { return }
            guard descriptors[0].revents != 0 else { continue }
            // The names do not matter: any change under a watched directory means "check again".
            var got = false
            while buffer.withUnsafeMutableBytes({ read(inotify, $0.baseAddress, $0.count) }) > 0 { got = true }
            if got { changed() }
        }
    }

    private final class Context {
        let watcher: ChangeWatcher
        let changed: @Sendable () -> Void
        init(watcher: ChangeWatcher, changed: @escaping @Sendable () -> Void) {
            self.watcher = watcher
            self.changed = changed
        }
    }
}
