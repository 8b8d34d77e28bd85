import Crypto
import TenkenPolicies

/// The digest a report names its policy by ("sha256:<hex>"): the policy file and every catalog
/// file it loads, each as its name, its length and its bytes. A check of only some rules names
/// a digest of its own, so a collector that expects a policy never takes a partial check for it.
public struct PolicyDigest {
    private var hasher = SHA256()

    public init() {}

    public mutating func absorb(name: String, bytes: [UInt8]) {
        hasher.update(data: Array(name.utf8) + [0] + Array(String(bytes.count).utf8) + [0])
        hasher.update(data: bytes)
    }

    public func finalize() -> String { "sha256:" + ByteText.hex(hasher.finalize()) }

    /// "sha256:" and 64 lowercase hex digits.
    public static func isWellFormed(_ digest: String) -> Bool {
        let hex = digest.utf8.dropFirst(7)
        return digest.hasPrefix("sha256:") && hex.count == 64
            && hex.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The digest of a check of `rules` (in the policy's order) out of the policy `digest`.
    public static func subset(of digest: String, rules: [String]) -> String {
        "sha256:" + ByteText.hex(SHA256.hash(data: Array((digest + "\nrules " + rules.joined(separator: ",")).utf8)))
    }

    /// The digest of the policy built into this version of tenken: what the collector expects of
    /// a machine enrolled without another. Its catalog files are those its `catalog:` list names,
    /// in order (read here without a YAML parser; a test checks it equals the loader's digest).
    public static let embeddedDefault: String = {
        var digest = PolicyDigest()
        digest.absorb(name: "policy", bytes: EmbeddedPolicies.files["default.yaml"] ?? [])
        for name in embeddedDefaultList("catalog", item: "  - ") {
            digest.absorb(name: name, bytes: EmbeddedPolicies.files[name] ?? [])
        }
        return digest.finalize()
    }()

    /// The rule ids of the policy built into tenken, in its order: a full check of it has one
    /// finding for each (read without a YAML parser, as the digest; a test checks them against
    /// the loader's).
    public static let embeddedDefaultRules: [String] = embeddedDefaultList("rules", item: "  - id: ")

    /// The items of a top-level list of default.yaml (`section:`), each a line that starts with `item`.
    private static func embeddedDefaultList(_ section: String, item: String) -> [String] {
        let policy = String(decoding: EmbeddedPolicies.files["default.yaml"] ?? [], as: UTF8.self)
        var items: [String] = []
        var inList = false
        for line in policy.split(separator: "\n") {
            if line == section + ":" {
                inList = true
            } else if inList, line.hasPrefix(item) {
                items.append(String(line.dropFirst(item.count)))
            } else if inList, !line.hasPrefix(" ") {
                break
            }
        }
        return items
    }
}
