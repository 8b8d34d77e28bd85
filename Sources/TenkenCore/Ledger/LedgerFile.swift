#if canImport(Glibc)
import Glibc
#endif

/// Reading and atomically writing ledger files.
public enum LedgerFile {
    /// The ledger a root keeps at /etc/tenken/ledger.yaml.
    public static func load(root: HostRoot) -> LedgerState {
        do {
            guard let bytes = try root.readFileIfPresent(Ledger.defaultPath, limit: 16 << 20) else {
                return .missing(path: Ledger.defaultPath)
            }
            return parse(bytes, file: Ledger.defaultPath)
        } catch {
            return .invalid(PolicyError(file: Ledger.defaultPath, message: error.message(in: .en)))
        }
    }

    /// A ledger file given by path on this machine.
    public static func load(file path: String) -> LedgerState {
        let (directory, name) = split(path)
        do {
            guard let bytes = try HostRoot(directory).readFileIfPresent(name, limit: 16 << 20) else { return .missing(path: path) }
            return parse(bytes, file: path)
        } catch where error.isNotFound {
            return .missing(path: path)
        } catch {
            return .invalid(PolicyError(file: path, message: error.message(in: .en)))
        }
    }

    private static func parse(_ bytes: [UInt8], file: String) -> LedgerState {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .invalid(PolicyError(file: file, message: "not valid UTF-8"))
        }
        do { return .loaded(try Ledger(yaml: text, file: file)) } catch { return .invalid(error) }
    }

    /// Writes the ledger atomically: a temporary file beside it, fsync, rename, fsync of the
    /// directory. A crash leaves the old ledger or the new one, never half of one.
    public static func save(_ ledger: Ledger, to path: String) throws(HostReadError) {
        let (directory, name) = split(path)
        try makeDirectories(directory)
        let temporary = directory + "/." + name + ".tmp-\(getpid())"
        let file = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw HostReadError(path: temporary, errno: errno) }
        var bytes = Array(ledger.yaml.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(file)
                unlink(temporary)
                throw HostReadError(path: temporary, errno: code)
            }
            bytes = bytes.dropFirst(written)
        }
        let synced = fsync(file) == 0
        close(file)
        guard synced, rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw HostReadError(path: path, errno: code)
        }
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 { fsync(parent); close(parent) }
    }

    /// mkdir -p, 0755: /etc/tenken does not exist before the first ledger.
    private static func makeDirectories(_ path: String) throws(HostReadError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw HostReadError(path: current, errno: errno) }
        }
    }

    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
