import TenkenBase

/// Strict, typed reading of one YAML mapping of a policy or catalog file. Unknown keys are
/// errors (a misspelt key in security configuration must not be silently ignored), and every
/// error names the file and line.
struct YAMLObject {
    let file: String
    let path: String
    private let node: YAMLNode
    private let mapping: [String: YAMLNode]

    init(_ node: YAMLNode, file: String, path: String, keys: Set<String>) throws(PolicyError) {
        self.file = file
        self.path = path
        self.node = node
        guard case .mapping(let pairs, _) = node else { throw Self.error(file, node, path, "expected a mapping") }
        var mapping: [String: YAMLNode] = [:]
        for (key, value) in pairs {
            let name = key.string ?? ""
            guard keys.contains(name) else {
                throw Self.error(
                    file, key, path, "unknown key '\(name)'; expected one of \(keys.sorted().joined(separator: ", "))")
            }
            mapping[name] = value
        }
        self.mapping = mapping
    }

    static func document(_ text: String, file: String, keys: Set<String>) throws(PolicyError) -> YAMLObject {
        let root: YAMLNode?
        do { root = try YAMLNode.parse(text) } catch { throw PolicyError(file: file, message: error.description) }
        guard let root else { throw PolicyError(file: file, message: "empty document") }
        return try YAMLObject(root, file: file, path: "", keys: keys)
    }

    func string(_ key: String) throws(PolicyError) -> String {
        guard let value = try optionalString(key) else { throw missing(key) }
        return value
    }

    func optionalString(_ key: String) throws(PolicyError) -> String? {
        guard let value = mapping[key] else { return nil }
        guard let text = value.string, !text.isEmpty else {
            throw Self.error(file, value, path + "." + key, "expected a non-empty string")
        }
        return text
    }

    func has(_ key: String) -> Bool { mapping[key] != nil }

    /// A whole number of at least zero, or `value` when the key is absent.
    func count(_ key: String, default value: Int) throws(PolicyError) -> Int {
        guard has(key) else { return value }
        let number = try int(key)
        guard (0...1_000_000).contains(number) else { throw error(key, "must be between 0 and 1000000") }
        return number
    }

    func bool(_ key: String, default value: Bool) throws(PolicyError) -> Bool {
        guard let node = mapping[key] else { return value }
        switch node.string {
        case "true"?: return true
        case "false"?: return false
        default: throw Self.error(file, node, path + "." + key, "expected true or false")
        }
    }

    func int(_ key: String) throws(PolicyError) -> Int {
        guard let value = mapping[key] else { throw missing(key) }
        guard let number = value.string.flatMap({ Int($0) }) else {
            throw Self.error(file, value, path + "." + key, "expected a whole number")
        }
        return number
    }

    /// A list of strings; a missing key is an empty list.
    func strings(_ key: String) throws(PolicyError) -> [String] {
        guard let value = mapping[key] else { return [] }
        guard case .sequence(let sequence, _) = value else {
            throw Self.error(file, value, path + "." + key, "expected a list")
        }
        var result: [String] = []
        for (index, item) in sequence.enumerated() {
            guard let text = item.string, !text.isEmpty else {
                throw Self.error(file, item, "\(path).\(key)[\(index)]", "expected a non-empty string")
            }
            result.append(text)
        }
        return result
    }

    func localized(_ key: String) throws(PolicyError) -> Localized {
        guard let value = mapping[key] else { throw missing(key) }
        let text = try YAMLObject(value, file: file, path: path + "." + key, keys: ["ja", "en"])
        return Localized(ja: try text.string("ja"), en: try text.string("en"))
    }

    func objects(_ key: String, keys: Set<String>) throws(PolicyError) -> [YAMLObject] {
        guard let value = mapping[key] else { throw missing(key) }
        guard case .sequence(let sequence, _) = value else {
            throw Self.error(file, value, path + "." + key, "expected a list")
        }
        var result: [YAMLObject] = []
        for (index, item) in sequence.enumerated() {
            result.append(try YAMLObject(item, file: file, path: "\(path).\(key)[\(index)]", keys: keys))
        }
        return result
    }

    func error(_ key: String, _ message: String) -> PolicyError {
        Self.error(file, mapping[key] ?? node, path + "." + key, message)
    }

    private func missing(_ key: String) -> PolicyError {
        Self.error(file, node, path, "missing key '\(key)'")
    }

    private static func error(_ file: String, _ node: YAMLNode, _ path: String, _ message: String) -> PolicyError {
        let line = "line \(node.line): "
        let location = path.isEmpty ? "" : String(path.drop { $0 == "." }) + ": "
        return PolicyError(file: file, message: line + location + message)
    }
}
