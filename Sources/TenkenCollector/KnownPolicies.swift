import TenkenBase

/// The policies whose full checks the collector accepts: the one built into tenken, and each
/// registered with `tenken-collector policies add`, each with its rule ids. A report is a full
/// check only with exactly one finding per rule of the policy it names, so a machine's root
/// cannot send a report of no findings (or of the rules it passes) as a check of everything.
public struct KnownPolicies: Sendable {
    let store: any ReportStore

    public init(store: any ReportStore) {
        self.store = store
    }

    public static let builtIn = RegisteredPolicy(
        digest: PolicyDigest.embeddedDefault, name: "tenken-default", rules: PolicyDigest.embeddedDefaultRules,
        addedAt: 0)

    /// nil for a digest the collector does not know.
    public func policy(_ digest: String) async throws -> RegisteredPolicy? {
        digest == Self.builtIn.digest ? Self.builtIn : try await store.policy(digest: digest)
    }

    /// Whether `ruleIDs` (a report's findings, each rule once) are exactly the rules of `digest`.
    func covered(_ digest: String, by ruleIDs: [String]) async throws -> Bool {
        guard let policy = try await policy(digest), policy.rules.count == ruleIDs.count else { return false }
        return Set(policy.rules) == Set(ruleIDs)
    }
}
