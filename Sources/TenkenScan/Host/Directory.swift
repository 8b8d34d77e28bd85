import CRootedIO
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// An open directory under a `HostRoot`. Children are opened relative to it with O_NOFOLLOW, so a
/// walk never leaves the tree, and names stay raw bytes so non-UTF-8 names can still be opened.
public final class Directory {
    /// What an entry is, from readdir (or lstat when readdir does not say); symlinks are never followed.
    public enum EntryKind: Sendable, Hashable {
        case file, directory, symlink, other

        /// From readdir's d_type; nil for DT_UNKNOWN, where only a stat can tell.
        init?(direntType type: UInt8) {
            switch Int32(type) {
            case Int32(DT_REG): self = .file
            case Int32(DT_DIR): self = .directory
            case Int32(DT_LNK): self = .symlink
            case Int32(DT_UNKNOWN): return nil
            default: self = .other
            }
        }

        /// From a stat's st_mode.
        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .file
            case S_IFDIR: self = .directory
            case S_IFLNK: self = .symlink
            default: self = .other
            }
        }
    }

    /// One entry of the directory: its raw name and what it is.
    public struct Entry: Sendable {
        public let name: FileName
        public let kind: EntryKind
    }

    public let path: String
    private let fd: Int32

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// The directory's entries without "." and "..", in no particular order.
    public func entries() throws(HostReadError) -> [Entry] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            let code = errno
            throw HostReadError(path: path, errno: code)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var result = [Entry]()
        while true {
            // readdir says "no more" and "failed" alike (NULL); only errno tells them apart, and a
            // directory read halfway must not look like a short one.
            errno = 0
            guard let raw = readdir(stream) else {
                let code = errno
                if code != 0 { throw HostReadError(path: path, errno: code) }
                break
            }
            let name = withUnsafeBytes(of: raw.pointee.d_name) { buffer -> FileName in
                let bytes = buffer.bindMemory(to: UInt8.self)
                let length = bytes.firstIndex(of: 0) ?? bytes.count
                return FileName(bytes: Array(bytes[..<length]))
            }
            if name.isDotOrDotDot { continue }
            var kind = EntryKind(direntType: raw.pointee.d_type)
            if kind == nil { kind = kindByStat(name) }
            result.append(Entry(name: name, kind: kind ?? .other))
        }
        return result
    }

    /// Opens a child directory; symlinks are not followed.
    public func subdirectory(_ name: FileName) throws(HostReadError) -> Directory {
        let child = childPath(name)
        let file = name.withCString { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard file >= 0 else { throw HostReadError(path: child, errno: errno) }
        return Directory(fd: file, path: child)
    }

    /// Reads a child regular file; symlinks are not followed.
    public func readFile(_ name: FileName, limit: Int = 1 << 20) throws(HostReadError) -> [UInt8] {
        let (file, size, path) = try openRegularFile(name)
        defer { close(file) }
        return try LocalFile.readAll(file, path: path, sizeHint: size, limit: limit)
    }

    /// Reads a child regular file a chunk at a time into `body` (false from it stops), so a
    /// large file costs one chunk of memory; more than `limit` bytes in all is an error.
    public func readChunks(
        _ name: FileName, chunk: Int = 1 << 20, limit: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Bool
    ) throws(HostReadError) {
        let (file, _, path) = try openRegularFile(name)
        defer { close(file) }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let got = read(file, buffer.baseAddress!, chunk)
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw HostReadError(path: path, errno: errno) }
            if got == 0 { return }
            total += got
            guard total <= limit else { throw HostReadError(path: path, reason: .tooLarge(limit: limit)) }
            guard body(UnsafeBufferPointer(rebasing: buffer[..<got])) else { return }
        }
    }

    /// The first `count` bytes of a child regular file (fewer if it is shorter).
    public func readPrefix(_ name: FileName, count: Int) throws(HostReadError) -> [UInt8] {
        let (file, _, path) = try openRegularFile(name)
        defer { close(file) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { read(file, $0.baseAddress! + filled, count - filled) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw HostReadError(path: path, errno: errno) }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[..<filled])
    }

    /// Opens a child for reading if it is a regular file: not a symlink (O_NOFOLLOW), FIFO or
    /// device, which could block or never end. Returns the descriptor, its size and its path.
    private func openRegularFile(_ name: FileName) throws(HostReadError) -> (Int32, Int, String) {
        let child = childPath(name)
        // Look before opening: opening a device node in an image (a watchdog, a tape) has effects.
        var before = stat()
        guard name.withCString({ fstatat(fd, $0, &before, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw HostReadError(path: child, errno: errno)
        }
        guard (before.st_mode & S_IFMT) == S_IFREG else { throw HostReadError(path: child, reason: .notARegularFile) }
        let file = name.withCString { openat(fd, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) }
        guard file >= 0 else { throw HostReadError(path: child, errno: errno) }
        var info = stat()
        guard fstat(file, &info) == 0 else {
            let code = errno
            close(file)
            throw HostReadError(path: child, errno: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(file)
            throw HostReadError(path: child, reason: .notARegularFile)
        }
        return (file, Int(info.st_size), child)
    }

    /// The target of a child symlink, as raw bytes (e.g. /proc/PID/exe or fd/N = "socket:[123]").
    public func readLink(_ name: FileName) throws(HostReadError) -> FileName {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = name.withCString { pointer in
            buffer.withUnsafeMutableBufferPointer { readlinkat(fd, pointer, $0.baseAddress!, $0.count - 1) }
        }
        guard count >= 0 else { throw HostReadError(path: childPath(name), errno: errno) }
        return FileName(bytes: Array(buffer[..<count]))
    }

    /// Mode and owner of a child, without following symlinks.
    public func status(_ name: FileName) throws(HostReadError) -> (mode: UInt32, uid: UInt32, size: Int, modified: Int)
    {
        var info = stat()
        let result = name.withCString { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw HostReadError(path: childPath(name), errno: errno) }
        return (info.st_mode, info.st_uid, Int(info.st_size), Int(info.st_mtim.tv_sec))
    }

    /// A child's modification, change and (where its file system records it) birth times, in
    /// unix seconds. Its birth time is the one `touch` cannot move.
    func times(_ name: FileName) throws(HostReadError) -> (modified: Int, changed: Int, born: Int?) {
        var info = stat()
        let result = name.withCString { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw HostReadError(path: childPath(name), errno: errno) }
        var born: Int64 = 0
        let birth = name.withCString { tenken_birth_time_at(fd, $0, &born) }
        return (Int(info.st_mtim.tv_sec), Int(info.st_ctim.tv_sec), birth == 1 && born > 0 ? Int(born) : nil)
    }

    /// The identity of a child's current version (device, inode, size, mtime, ctime).
    func identity(_ name: FileName) throws(HostReadError) -> FileIdentity {
        var info = stat()
        let result = name.withCString { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw HostReadError(path: childPath(name), errno: errno) }
        return FileIdentity(info)
    }

    public func childPath(_ name: FileName) -> String {
        path.hasSuffix("/") ? path + name.display : path + "/" + name.display
    }

    private func kindByStat(_ name: FileName) -> EntryKind? {
        guard let mode = try? status(name).mode else { return nil }
        return EntryKind(mode: mode)
    }
}
