import TenkenPolicies

/// The contracts that rules cite, from Policies/contracts.yaml: a clause "002 第11条(10)ウ"
/// belongs to contract "002".
public struct ContractIndex: Sendable {
    public struct Contract: Sendable, Hashable, Codable {
        public let id: String
        public let issuer: Localized
        public let title: Localized
    }

    public let contracts: [Contract]

    public static func embedded() -> ContractIndex {
        // Compiled in and covered by tests: a failure here is a build mistake, not input.
        try! ContractIndex(text: String(decoding: EmbeddedPolicies.files["contracts.yaml"]!, as: UTF8.self), file: "contracts.yaml")
    }

    public init(text: String, file: String) throws(PolicyError) {
        let document = try YAMLObject.document(text, file: file, keys: ["contracts"])
        var contracts: [Contract] = []
        for entry in try document.objects("contracts", keys: ["id", "issuer", "title"]) {
            contracts.append(Contract(id: try entry.string("id"), issuer: try entry.localized("issuer"), title: try entry.localized("title")))
        }
        self.contracts = contracts
    }

    /// The contract a clause cites: the text before the first space.
    public static func contractID(of clause: String) -> String {
        String(clause.prefix { $0 != " " })
    }

    public func contract(_ id: String) -> Contract? { contracts.first { $0.id == id } }
}
