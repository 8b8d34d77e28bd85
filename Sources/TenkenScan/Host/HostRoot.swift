import CRootedIO
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// The directory tree whose facts are read: `/` for this machine, or a mounted image or fixture.
/// Every open goes through openat2(RESOLVE_IN_ROOT), so a symlink inside the tree that points to
/// `/etc/shadow` resolves to `<root>/etc/shadow`, never to the scanning host's file.
public final class HostRoot: Sendable {
    public let path: String
    private let fd: Int32
    /// Where the kernel says the root is, read once for `pathUnderRoot` (asked for each symlink
    /// on the PATH). A root moved since has files outside this path: none is given a path then.
    private let location: [UInt8]?

    public init(_ path: String = "/") throws(HostReadError) {
        let fd = tenken_open_root(path)
        guard fd >= 0 else { throw HostReadError(path: path, errno: errno) }
        self.path = path
        self.fd = fd
        location = Self.linkTarget(ofDescriptor: fd)
    }

    deinit { close(fd) }

    static let pathOnly = LocalFile.pathOnly

    public var isHostRoot: Bool { path == "/" }

    /// Reads a whole regular file. Refuses FIFOs and devices (which could block or never end)
    /// and anything over `limit` bytes.
    public func readFile(_ path: String, limit: Int = 64 << 20) throws(HostReadError) -> [UInt8] {
        // Look before opening: opening a device node in an image (a watchdog, a tape) has effects.
        let handle = try open(path, flags: Self.pathOnly)
        var info = stat()
        let looked = fstat(handle, &info)
        close(handle)
        guard looked == 0 else { throw HostReadError(path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw HostReadError(path: path, reason: .notARegularFile) }
        let file = try open(path, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY)
        defer { close(file) }
        guard fstat(file, &info) == 0 else { throw HostReadError(path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw HostReadError(path: path, reason: .notARegularFile) }
        return try LocalFile.readAll(file, path: path, sizeHint: Int(info.st_size), limit: limit)
    }

    /// Like `readFile`, but a missing file is `nil` rather than an error.
    public func readFileIfPresent(_ path: String, limit: Int = 64 << 20) throws(HostReadError) -> [UInt8]? {
        do { return try readFile(path, limit: limit) } catch  where error.isNotFound { return nil }
    }

    public func exists(_ path: String) -> Bool { exists(HostPath(path)) }

    public func exists(_ path: HostPath) -> Bool {
        path.withCString { tenken_exists_in_root(fd, $0, isHostRoot ? 1 : 0) } == 1
    }

    /// Opens a directory under the root for walking without following symlinks further.
    public func directory(_ path: String) throws(HostReadError) -> Directory { try directory(HostPath(path)) }

    /// A directory by its raw path, for names that are not UTF-8; the directory's `path` is the display form.
    public func directory(_ path: HostPath) throws(HostReadError) -> Directory {
        Directory(fd: try open(path, flags: O_RDONLY | O_DIRECTORY), path: path.display)
    }

    /// `directory`, with a missing directory as `nil`.
    public func directoryIfPresent(_ path: String) throws(HostReadError) -> Directory? {
        try directoryIfPresent(HostPath(path))
    }

    public func directoryIfPresent(_ path: HostPath) throws(HostReadError) -> Directory? {
        do { return try directory(path) } catch  where error.isNotFound || error.reason == .notADirectory { return nil }
    }

    /// Where an open file is, as a path under this root (what a symlink led to); nil when the
    /// kernel does not say or the file is not below the root.
    func pathUnderRoot(of file: Int32) -> HostPath? {
        guard let rootPath = location, let filePath = Self.linkTarget(ofDescriptor: file),
            filePath.starts(with: rootPath)
        else { return nil }
        if rootPath == [0x2F] { return HostPath(bytes: filePath) }
        let rest = filePath.dropFirst(rootPath.count)
        guard rest.isEmpty || rest.first == 0x2F else { return nil }
        return HostPath(bytes: rest.isEmpty ? [0x2F] : Array(rest))
    }

    private static func linkTarget(ofDescriptor file: Int32) -> [UInt8]? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX) + 1) { target in
            let count = readlink("/proc/self/fd/\(file)", target.baseAddress!, target.count)
            guard count > 0, count < target.count else { return nil }
            return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(target)[0..<count]).map { $0 }
        }
    }

    func open(_ path: String, flags: Int32) throws(HostReadError) -> Int32 { try open(HostPath(path), flags: flags) }

    func open(_ path: HostPath, flags: Int32) throws(HostReadError) -> Int32 {
        let file = path.withCString { tenken_open_in_root(fd, $0, flags, isHostRoot ? 1 : 0) }
        guard file >= 0 else { throw HostReadError(path: path.display, errno: errno) }
        return file
    }
}
