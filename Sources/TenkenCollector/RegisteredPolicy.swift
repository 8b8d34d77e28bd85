import TenkenBase

/// A policy the collector takes full checks of: its digest (as reports name it), a name for
/// people, and the ids of its rules, one finding each in a full check.
public struct RegisteredPolicy: Sendable, Equatable {
    public let digest: String
    public let name: String
    public let rules: [String]
    public let addedAt: Int

    public init(digest: String, name: String, rules: [String], addedAt: Int) {
        self.digest = digest
        self.name = name
        self.rules = rules
        self.addedAt = addedAt
    }

    /// Why a report cannot describe a policy.
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The policy a check of it shows (`tenken check --policy FILE --json`, or a signed report,
    /// verified): its digest and id, and the rule of each finding. Only the administrator gives
    /// one, on the collector's host (`tenken-collector policies add --report FILE`).
    public static func described(by file: [UInt8], now: Int) throws -> RegisteredPolicy {
        var json = file
        if ByteText.trimmingASCIIWhitespace(file[...]).first != UInt8(ascii: "{") {
            do {
                json = try ReportPayload.json(of: try JWS.verify(bytes: file[...]), limit: ReportPayload.largestReport)
            } catch {
                throw Unusable(description: "neither a report's JSON nor a signed report: \(error)")
            }
        }
        var name: String?
        var digest: String?
        var rules: [String] = []
        var reader = JSONReader(json)
        try reader.object { reader, key in
            switch key {
            case "policy":
                try reader.object { reader, key in
                    switch key {
                    case "id": name = try reader.string()
                    case "digest": digest = try reader.string()
                    default: try reader.skipValue()
                    }
                }
            case "findings":
                try reader.array { reader in
                    try reader.object { reader, key in
                        if key == "ruleId" { rules.append(try reader.string()) } else { try reader.skipValue() }
                    }
                }
            default: try reader.skipValue()
            }
        }
        guard let digest, PolicyDigest.isWellFormed(digest) else {
            throw Unusable(description: "the report names no policy digest (sha256:...)")
        }
        guard !rules.isEmpty, Set(rules).count == rules.count,
            rules.allSatisfy({ (1...200).contains($0.utf8.count) && !$0.utf8.contains(0x0A) })
        else { throw Unusable(description: "the report's findings are not one per rule") }
        return RegisteredPolicy(digest: digest, name: name ?? "", rules: rules, addedAt: now)
    }
}
