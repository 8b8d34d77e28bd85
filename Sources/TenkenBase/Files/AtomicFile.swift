#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file so that a crash leaves either the old file or the new one, never half of one:
/// a temporary file beside it, fsync, rename over the old name, fsync of the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(HostReadError) {
        let (directory, name) = split(path)
        try makeDirectories(directory)
        let temporary = directory + "/." + name + ".tmp-\(getpid())"
        let file = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard file >= 0 else { throw HostReadError(path: temporary, errno: errno) }
        fchmod(file, mode)  // the umask must not widen or narrow what the caller asked for
        var rest = bytes[...]
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { Glibc.write(file, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(file)
                unlink(temporary)
                throw HostReadError(path: temporary, errno: code)
            }
            rest = rest.dropFirst(written)
        }
        let synced = fsync(file) == 0
        close(file)
        guard synced, rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw HostReadError(path: path, errno: code)
        }
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 {
            fsync(parent)
            close(parent)
        }
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
