import TenkenBase

/// The ledger as a check found it: loaded, not there, or there and unreadable.
public enum LedgerState: Sendable {
    case loaded(Ledger)
    case missing(path: String)
    case invalid(PolicyError)

    /// Why the ledger rules cannot be checked: none when it loaded.
    var problems: [FactIssue] {
        switch self {
        case .loaded:
            return []
        case .missing(let path):
            return [
                FactIssue(
                    .identity, .error, .missing, path: path,
                    Localized(
                        ja: "台帳 \(path) がありません (tenken ledger add-machine で作成してください)",
                        en: "no ledger at \(path) (create one with tenken ledger add-machine)"))
            ]
        case .invalid(let error):
            return [
                FactIssue(
                    .identity, .error, .damaged, path: error.file,
                    Localized(ja: "台帳を読み込めません: \(error)", en: "cannot read the ledger: \(error)"))
            ]
        }
    }
}
