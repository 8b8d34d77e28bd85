import TenkenBase
import TenkenPolicies

/// Why a policy could not be loaded. `tenken check` exits 2 on it: no verdict without a policy.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let message: String

    public var description: String { "\(file): \(message)" }
}

/// Loads a policy from a file, or the default compiled into tenken. Catalog files named by the
/// policy are read beside it; a name not found there falls back to the embedded catalog file.
public enum PolicyLoader {
    public static let defaultPolicyName = "default.yaml"

    public static func loadDefault() throws(PolicyError) -> Policy {
        try load(name: defaultPolicyName, bytes: embedded(defaultPolicyName)!, directory: nil)
    }

    /// The policy in `file`, or the built-in one, narrowed to `rules` when given.
    public static func load(file: String?, rules: [String]?) throws(PolicyError) -> Policy {
        let loaded = if let file { try load(file: file) } else { try loadDefault() }
        guard let rules else { return loaded }
        return try loaded.selecting(rules).get()
    }

    public static func load(file path: String) throws(PolicyError) -> Policy {
        let (directory, name) = AtomicFile.split(path)
        do {
            let bytes = try HostRoot(directory).readFile(name, limit: 4 << 20)
            return try load(name: path, bytes: bytes, directory: directory)
        } catch let error as HostReadError {
            throw PolicyError(file: path, message: error.message(in: .en))
        } catch let error as PolicyError {
            throw error
        } catch {
            throw PolicyError(file: path, message: "\(error)")
        }
    }

    static func load(name: String, bytes: [UInt8], directory: String?) throws(PolicyError) -> Policy {
        let document = try PolicyDocument(text(bytes, file: name), file: name)
        var digest = PolicyDigest()
        digest.absorb(name: "policy", bytes: bytes)
        var catalogFiles: [CatalogFile] = []
        for reference in document.catalog {
            let catalogBytes = try catalogFile(reference, directory: directory, policy: name)
            digest.absorb(name: reference, bytes: catalogBytes)
            catalogFiles.append(try CatalogFile(text(catalogBytes, file: reference), file: reference))
        }
        let catalog = SoftwareCatalog(catalogFiles)
        var seen = Set<String>()
        for rule in document.rules {
            guard seen.insert(rule.id).inserted else {
                throw PolicyError(file: name, message: "rule id '\(rule.id)' is used twice")
            }
            for category in rule.kind.categories where catalog.categories[category] == nil {
                throw PolicyError(file: name, message: "rule '\(rule.id)': no catalog file has category '\(category)'")
            }
        }
        return Policy(
            id: document.id, version: document.version, title: document.title, rules: document.rules,
            catalog: catalog, digest: digest.finalize())
    }

    private static func catalogFile(_ reference: String, directory: String?, policy: String) throws(PolicyError)
        -> [UInt8]
    {
        if let directory {
            let path = reference.hasPrefix("/") ? reference : directory + "/" + reference
            let (parent, name) = AtomicFile.split(path)
            if let root = try? HostRoot(parent), let bytes = try? root.readFileIfPresent(name, limit: 4 << 20) {
                return bytes
            }
        }
        if let bytes = embedded(reference) { return bytes }
        throw PolicyError(file: policy, message: "catalog file '\(reference)' not found")
    }

    private static func text(_ bytes: [UInt8], file: String) throws(PolicyError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError(file: file, message: "not valid UTF-8")
        }
        return text
    }

    private static func embedded(_ name: String) -> [UInt8]? { EmbeddedPolicies.files[name] }
}
