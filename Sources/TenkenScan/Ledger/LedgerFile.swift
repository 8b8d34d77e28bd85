import TenkenBase

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
        let (directory, name) = AtomicFile.split(path)
        do {
            guard let bytes = try HostRoot(directory).readFileIfPresent(name, limit: 16 << 20) else {
                return .missing(path: path)
            }
            return parse(bytes, file: path)
        } catch  where error.isNotFound {
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

    /// Writes the ledger atomically (see `AtomicFile`).
    public static func save(_ ledger: Ledger, to path: String) throws(HostReadError) {
        try AtomicFile.write(Array(ledger.yaml.utf8), to: path)
    }
}
