/// The ledger as a check found it: loaded, not there, or there and unreadable.
public enum LedgerState: Sendable {
    case loaded(Ledger)
    case missing(path: String)
    case invalid(PolicyError)

    /// The file a missing or invalid ledger concerns.
    var path: String? {
        switch self {
        case .loaded: return nil
        case .missing(let path): return path
        case .invalid(let error): return error.file
        }
    }
}
