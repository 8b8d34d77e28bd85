import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// The first bytes of one file of a directory being walked: enough to say what it is
/// (`FileMagic`), read without following a symlink and only from the regular file the walk
/// looked at, with the kernel asked not to read ahead (a walk reads the heads of many files and
/// nothing after them).
enum FileHead {
    enum Outcome {
        case read([UInt8])
        /// Removed or replaced since it was listed: nothing to look at.
        case gone
        /// It could not be read (errno): what it is stays unknown, which is a gap.
        case failed(Int32)
    }

    static func read(_ directory: Int32, _ name: UnsafeBufferPointer<UInt8>, identity: FileIdentity) -> Outcome {
        let fd = name.withMemoryRebound(to: CChar.self) {
            // The name in readdir's buffer ends with its NUL.
            openat(directory, $0.baseAddress!, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        }
        guard fd >= 0 else {
            let code = errno
            return code == ENOENT || code == ELOOP ? .gone : .failed(code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failed(errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG, UInt64(info.st_ino) == identity.inode,
            UInt64(info.st_dev) == identity.device
        else { return .gone }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)
        var head = [UInt8](repeating: 0, count: FileMagic.headBytes)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return .failed(errno) }
        return .read(Array(head.prefix(count)))
    }
}
