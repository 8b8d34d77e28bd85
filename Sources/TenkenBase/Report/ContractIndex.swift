import TenkenPolicies

/// The contracts that rules cite, from Policies/contracts.json: a clause "002 第11条(10)ウ"
/// belongs to contract "002". JSON, so the collector reads it without the policy's YAML parser.
public struct ContractIndex: Sendable {
    /// One contract: its id (the prefix of its clauses), who issued it and its title.
    public struct Contract: Sendable, Hashable, Codable {
        public let id: String
        public let issuer: Localized
        public let title: Localized
    }

    /// Why contracts.json could not be read.
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public let contracts: [Contract]

    public static func embedded() -> ContractIndex {
        // Compiled in and covered by tests: a failure here is a build mistake, not input.
        try! ContractIndex(json: Array(EmbeddedPolicies.files["contracts.json"]!))
    }

    public init(json: [UInt8]) throws(Malformed) {
        var contracts: [Contract] = []
        var reader = JSONReader(json)
        do {
            try reader.object { reader, key in
                guard key == "contracts" else { throw Malformed(description: "unknown key '\(key)'") }
                try reader.array { reader in
                    var id: String?
                    var issuer: Localized?
                    var title: Localized?
                    try reader.object { reader, key in
                        switch key {
                        case "id": id = try reader.string()
                        case "issuer": issuer = try Self.localized(&reader)
                        case "title": title = try Self.localized(&reader)
                        default: throw Malformed(description: "unknown key '\(key)' in a contract")
                        }
                    }
                    guard let id, let issuer, let title else {
                        throw Malformed(description: "a contract needs id, issuer and title")
                    }
                    contracts.append(Contract(id: id, issuer: issuer, title: title))
                }
            }
            try reader.end()
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(description: "contracts.json: \(error)")
        }
        self.contracts = contracts
    }

    private static func localized(_ reader: inout JSONReader) throws -> Localized {
        var ja: String?
        var en: String?
        try reader.object { reader, key in
            switch key {
            case "ja": ja = try reader.string()
            case "en": en = try reader.string()
            default: throw Malformed(description: "unknown language '\(key)'")
            }
        }
        guard let ja, let en else { throw Malformed(description: "a text needs ja and en") }
        return Localized(ja: ja, en: en)
    }

    /// The contract a clause cites: the text before the first space.
    public static func contractID(of clause: String) -> String {
        String(clause.prefix { $0 != " " })
    }

    public func contract(_ id: String) -> Contract? { contracts.first { $0.id == id } }
}
