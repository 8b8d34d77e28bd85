import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// tenken's own state (machine key, sequence counter, spool) in one directory. Whoever can write
/// there can sign reports as this machine or send its numbering backwards, so the directory must
/// belong to the user running tenken and be writable by no one else; what is in it is opened
/// relative to the directory with O_NOFOLLOW, so a planted link is refused, never followed.
/// Created 0700 whatever the umask.
public final class StateDirectory: Sendable {
    public let path: String
    private let fd: Int32

    /// Opens `path`, creating it (and missing parents) when `create` and it does not exist.
    public convenience init(_ given: String, create: Bool = true) throws(HostReadError) {
        // "/var/lib/tenken/" is /var/lib/tenken: made here, so made 0700.
        var path = given
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let (parent, name) = AtomicFile.split(path)
        if create { try AtomicFile.makeDirectories(parent) }
        // Opened below its parents' real path, each of which only root or this user can change:
        // no one else can swap the directory, or a link on the way to it, between two opens.
        guard let resolved = realpath(parent, nil) else { throw HostReadError(path: parent, errno: errno) }
        let real = String(cString: resolved)
        free(resolved)
        try Self.checkAncestors(real)
        let opened = (real == "/" ? "" : real) + "/" + name
        try self.init(
            path: path, opening: { flags in open(opened, flags) }, making: { mkdir(opened, 0o700) }, create: create)
    }

    /// Every directory from / down to `real` (a path without links) is owned by root or this
    /// user, and writable by no one else unless sticky (as /tmp is: others cannot rename or
    /// remove what they do not own there).
    private static func checkAncestors(_ real: String) throws(HostReadError) {
        var prefix = ""
        for component in [""] + real.split(separator: "/").map(String.init) {
            prefix = component.isEmpty ? "/" : (prefix == "/" ? "/" : prefix + "/") + component
            var info = stat()
            guard lstat(prefix, &info) == 0 else { throw HostReadError(path: prefix, errno: errno) }
            let user = geteuid()
            let sticky = info.st_mode & 0o1000 != 0
            if (info.st_uid != 0 && info.st_uid != user) || (info.st_mode & 0o022 != 0 && !sticky) {
                throw HostReadError(
                    path: prefix,
                    reason: .refused(
                        Localized(
                            ja: "tenken の状態ディレクトリの親ですが、root 以外のユーザーが変更できます"
                                + " (所有者 uid \(info.st_uid)、モード \(String(info.st_mode & 0o7777, radix: 8)))。"
                                + "root だけが書き込めるディレクトリの下に置いてください",
                            en: "a parent of tenken's state directory that someone other than root can change"
                                + " (owner uid \(info.st_uid), mode \(String(info.st_mode & 0o7777, radix: 8))):"
                                + " keep the state under directories only root can write")))
            }
        }
    }

    private init(
        path: String, opening: (Int32) -> Int32, making: () -> Int32, create: Bool
    ) throws(HostReadError) {
        self.path = path
        let made = create && making() == 0
        if create && !made && errno != EEXIST { throw HostReadError(path: path, errno: errno) }
        let file = opening(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard file >= 0 else {
            let code = errno
            var info = stat()
            if (code == ELOOP || code == ENOTDIR) && lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK {
                throw Self.refusedLink(path)
            }
            throw HostReadError(path: path, errno: code)
        }
        fd = file
        if made { fchmod(file, 0o700) }  // the umask must not widen it
        try Self.checkOwned(fd: file, path: path, privateMode: false)
    }

    deinit { close(fd) }

    /// A directory in this one (the spool, its rejected/), checked as this one is.
    public func subdirectory(_ name: String, create: Bool = true) throws(HostReadError) -> StateDirectory {
        try StateDirectory(
            path: path + "/" + name, opening: { flags in openat(fd, name, flags) },
            making: { mkdirat(fd, name, 0o700) }, create: create)
    }

    /// Whether `name` exists in any form (a file, a link, anything): what exists is never replaced unseen.
    public func exists(_ name: String) -> Bool {
        var info = stat()
        return fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// A file of ours: nil when absent. A link, anything but a regular file, a file of another
    /// user or one others may write is refused; `privateFile` also refuses one others may read.
    public func read(_ name: String, limit: Int, privateFile: Bool = false) throws(HostReadError) -> [UInt8]? {
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        let child = path + "/" + name
        guard file >= 0 else {
            let code = errno
            if code == ENOENT && !exists(name) { return nil }
            if code == ELOOP { throw Self.refusedLink(child) }
            throw HostReadError(path: child, errno: code)
        }
        defer { close(file) }
        try Self.checkOwned(fd: file, path: child, privateMode: privateFile, regular: true)
        var info = stat()
        fstat(file, &info)
        return try LocalFile.readAll(file, path: child, sizeHint: Int(info.st_size), limit: limit)
    }

    /// Replaces `name` atomically (AtomicFile, inside this directory: never through a link).
    public func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(HostReadError) {
        try AtomicFile.write(bytes, in: fd, directoryPath: path, name: name, mode: mode)
    }

    /// Removes `name` durably; one that is already gone is fine.
    public func remove(_ name: String) throws(HostReadError) {
        guard unlinkat(fd, name, 0) == 0 || errno == ENOENT else {
            let code = errno
            throw HostReadError(path: path + "/" + name, errno: code)
        }
        fsync(fd)
    }

    /// Moves `name` into `other` (the rejected/ beside a spool), keeping its name.
    public func move(_ name: String, to other: StateDirectory) throws(HostReadError) {
        guard renameat(fd, name, other.fd, name) == 0 else {
            throw HostReadError(path: path + "/" + name, errno: errno)
        }
        fsync(other.fd)
        fsync(fd)
    }

    /// A lock file in this directory, opened (created 0600) without following a link.
    /// Refused like any file of ours when another user planted it (they could hold the lock forever).
    public func lockFile(_ name: String) throws(HostReadError) -> Int32 {
        let file = openat(fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else {
            let code = errno
            if code == ELOOP { throw Self.refusedLink(path + "/" + name) }
            throw HostReadError(path: path + "/" + name, errno: code)
        }
        do { try Self.checkOwned(fd: file, path: path + "/" + name, privateMode: false, regular: true) } catch {
            close(file)
            throw error
        }
        return file
    }

    /// Takes the exclusive lock `name` (a lock file as `lockFile` opens it) and returns its descriptor,
    /// which holds the lock until it is closed. Waits at most `seconds`: a process that hangs while
    /// holding it must not stop every later run without a word.
    public func lock(_ name: String, waitingAtMost seconds: Double = 30) throws(HostReadError) -> Int32 {
        let file = try lockFile(name)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var pause = 1_000_000
        while flock(file, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(file)
                throw HostReadError(path: path + "/" + name, errno: code)
            }
            guard ContinuousClock.now < deadline else {
                close(file)
                let shown = seconds.rounded() == seconds ? String(Int(seconds)) : String(seconds)
                throw HostReadError(
                    path: path + "/" + name,
                    reason: .refused(
                        Localized(
                            ja: "別のプロセスが \(shown) 秒以上ロックを保持しています"
                                + " (止まった tenken がないか `fuser -v \(path)/\(name)` で確認してください)",
                            en: "another process has held this lock for over \(shown) s"
                                + " (look for a stuck tenken with `fuser -v \(path)/\(name)`)")))
            }
            // From 1 ms up to 20 ms: a lock held for a moment (a report being spooled) costs little.
            var nap = timespec(tv_sec: 0, tv_nsec: pause)
            nanosleep(&nap, nil)
            pause = min(pause * 2, 20_000_000)
        }
        return file
    }

    /// The names in this directory (raw names shown with \x escapes), and which are regular files.
    public func names() throws(HostReadError) -> [(name: String, isFile: Bool)] {
        let copy = dup(fd)
        guard copy >= 0 else { throw HostReadError(path: path, errno: errno) }
        return try Directory(fd: copy, path: path).entries().map { ($0.name.display, $0.kind == .file) }
    }

    /// Owned by the running user and writable by no one else (and, for a private file, readable by no one else).
    private static func checkOwned(
        fd: Int32, path: String, privateMode: Bool, regular: Bool = false
    ) throws(HostReadError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw HostReadError(path: path, errno: errno) }
        if regular && (info.st_mode & S_IFMT) != S_IFREG { throw HostReadError(path: path, reason: .notARegularFile) }
        let user = geteuid()
        if info.st_uid != user {
            throw HostReadError(
                path: path,
                reason: .refused(
                    Localized(
                        ja: "uid \(info.st_uid) の所有で、tenken を実行しているユーザー (uid \(user)) のものではありません。"
                            + "この状態を使うユーザー (サービスなら root) で実行するか、別のユーザーが置いたものなら削除してください",
                        en: "owned by uid \(info.st_uid), not by the user running tenken (uid \(user)): run tenken as"
                            + " the user this state belongs to (root for the service), or remove it if someone else put it there"
                    )))
        }
        let mode = info.st_mode & 0o777
        if mode & (privateMode ? 0o077 : 0o022) != 0 {
            let fix = privateMode ? "600" : (regular ? "644" : "700")
            throw HostReadError(
                path: path,
                reason: .refused(
                    Localized(
                        ja: "ほかのユーザーが\(privateMode ? "読み書き" : "書き込み")できます (モード \(String(mode, radix: 8)))。"
                            + "chmod \(fix) してください",
                        en:
                            "\(privateMode ? "readable or writable" : "writable") by others (mode \(String(mode, radix: 8))):"
                            + " chmod \(fix) it")))
        }
    }

    private static func refusedLink(_ path: String) -> HostReadError {
        HostReadError(
            path: path,
            reason: .refused(
                Localized(
                    ja: "シンボリックリンクです。tenken は自分の状態をリンク先に読み書きしません。削除してください",
                    en: "a symbolic link: tenken does not read or write its state through links; remove it")))
    }
}
