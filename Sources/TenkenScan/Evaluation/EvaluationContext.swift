import TenkenBase

/// What a rule is evaluated against: the facts, an index of them, the catalog, the time and the ledger.
struct EvaluationContext {
    let facts: HostFacts
    let index: FactIndex
    let catalog: SoftwareCatalog
    /// Unix seconds that ages are measured against.
    let now: Int
    let ledger: LedgerState

    func issues(from sources: Set<FactSource>, about parts: Set<FactPart>? = nil) -> [FactIssue] {
        facts.issues(from: sources, about: parts)
    }
}
