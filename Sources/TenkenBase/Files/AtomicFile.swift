#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file so that a crash leaves either the old file or the new one, never half of one:
/// a temporary file beside it, fsync, rename over the old name, fsync of the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(HostReadError) {
        let (directory, name) = split(path)
        try makeDirectories(directory)
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw HostReadError(path: directory, errno: errno) }
        defer { close(parent) }
        try write(bytes, in: parent, directoryPath: directory, name: name, mode: mode)
    }

    /// The same inside an open directory: the temporary file is made there with O_EXCL and
    /// O_NOFOLLOW (never through a link), renamed over `name`, and the directory synced.
    public static func write(
        _ bytes: [UInt8], in directory: Int32, directoryPath: String, name: String, mode: mode_t
    ) throws(HostReadError) {
        // Unique per writer: two threads of one process never share a temporary file.
        let temporary = "." + name + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let shown = directoryPath.hasSuffix("/") ? directoryPath + temporary : directoryPath + "/" + temporary
        let file = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard file >= 0 else {
            let code = errno
            throw HostReadError(path: shown, errno: code)
        }
        fchmod(file, mode)  // the umask must not widen or narrow what the caller asked for
        var rest = bytes[...]
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { Glibc.write(file, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(file)
                unlinkat(directory, temporary, 0)
                throw HostReadError(path: shown, errno: code)
            }
            rest = rest.dropFirst(written)
        }
        let synced = fsync(file) == 0
        let syncError = errno
        close(file)
        guard synced, renameat(directory, temporary, directory, name) == 0 else {
            let code = synced ? errno : syncError
            unlinkat(directory, temporary, 0)
            throw HostReadError(path: directoryPath + "/" + name, errno: code)
        }
        fsync(directory)
    }

    /// mkdir -p with 0755: /etc/tenken or /var/lib/tenken may not exist yet.
    public static func makeDirectories(_ path: String) throws(HostReadError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw HostReadError(path: current, errno: errno) }
        }
    }

    public static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
