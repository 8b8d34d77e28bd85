#if canImport(Glibc)
    import Glibc
#endif

/// Bounded reads of this machine's own files by path (a key, a certificate, a policy): only a
/// regular file, never more than `limit` bytes, and without blocking on a FIFO or a device.
public enum LocalFile {
    /// O_PATH, which Swift's Glibc module does not export (it is _GNU_SOURCE).
    public static let pathOnly: Int32 = 0o10000000

    /// Reads the whole file. `followLinks: false` refuses a symlink as the last component
    /// (for files tenken itself created, such as the machine key).
    public static func read(atPath path: String, limit: Int, followLinks: Bool = true) throws(HostReadError) -> [UInt8]
    {
        let file = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW))
        guard file >= 0 else { throw HostReadError(path: path, errno: errno) }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0 else { throw HostReadError(path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw HostReadError(path: path, reason: .notARegularFile) }
        return try readAll(file, path: path, sizeHint: Int(info.st_size), limit: limit)
    }

    /// Reads an open file to its end, refusing more than `limit` bytes.
    public static func readAll(_ file: Int32, path: String, sizeHint: Int, limit: Int) throws(HostReadError) -> [UInt8]
    {
        // procfs reports size 0 for files that have content, so the size only reserves capacity.
        var bytes = [UInt8]()
        bytes.reserveCapacity(min(max(sizeHint, 0), limit) + 1)
        let chunkSize = 64 << 10
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = Glibc.read(file, chunk, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw HostReadError(path: path, errno: errno)
            }
            if count == 0 { return bytes }
            guard bytes.count + count <= limit else { throw HostReadError(path: path, reason: .tooLarge(limit: limit)) }
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: count))
        }
    }
}
