import CYAML

/// A YAML document as a tree, built from libyaml's parser events (the C parser Debian ships as
/// libyaml). Every scalar stays a string: policies say which keys hold numbers. Anchors and
/// aliases are refused (a policy has no use for them, and they allow exponential expansion),
/// and so are duplicate keys, which libyaml itself accepts.
indirect enum YAMLNode: Sendable {
    case scalar(String, line: Int)
    case sequence([YAMLNode], line: Int)
    case mapping([(key: YAMLNode, value: YAMLNode)], line: Int)

    struct ParseError: Error, Sendable, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "line \(line): \(message)" }
    }

    var line: Int {
        switch self {
        case .scalar(_, let line), .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    var string: String? {
        if case .scalar(let text, _) = self { return text }
        return nil
    }

    /// Parses exactly one document; an empty input is nil.
    static func parse(_ text: String) throws(ParseError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw ParseError(line: 0, message: "out of memory") }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(ParseError) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
                    throw ParseError(line: Int(parser.problem_mark.line) + 1, message: problem)
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return builder.document }
                try builder.take(event)
            }
        }
    }

    /// Turns the flat event stream into nested nodes with a stack of open collections.
    private struct Builder {
        private enum Open {
            case sequence([YAMLNode], line: Int)
            case mapping([(key: YAMLNode, value: YAMLNode)], pendingKey: YAMLNode?, keys: Set<String>, line: Int)
        }

        /// Policies nest a few levels; a document nested deeper is not a policy.
        static let maximumDepth = 64

        private var stack: [Open] = []
        private(set) var document: YAMLNode?
        private var documents = 0

        mutating func take(_ event: yaml_event_t) throws(ParseError) {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw ParseError(line: line, message: "only one YAML document is allowed") }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = String(
                    decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                try add(.scalar(text, line: line))
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                guard stack.count < Self.maximumDepth else {
                    throw ParseError(line: line, message: "nested deeper than \(Self.maximumDepth) levels")
                }
                stack.append(
                    event.type == YAML_SEQUENCE_START_EVENT
                        ? .sequence([], line: line)
                        : .mapping([], pendingKey: nil, keys: [], line: line))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                switch stack.popLast() {
                case .sequence(let items, let start)?: try add(.sequence(items, line: start))
                case .mapping(let pairs, _, _, let start)?: try add(.mapping(pairs, line: start))
                case nil: throw ParseError(line: line, message: "unbalanced collection")
                }
            case YAML_ALIAS_EVENT:
                throw ParseError(line: line, message: "YAML aliases (*name) are not allowed in policies")
            default:
                break
            }
            if event.type == YAML_SCALAR_EVENT || event.type == YAML_SEQUENCE_START_EVENT
                || event.type == YAML_MAPPING_START_EVENT
            {
                let anchor: UnsafeMutablePointer<yaml_char_t>? =
                    switch event.type {
                    case YAML_SCALAR_EVENT: event.data.scalar.anchor
                    case YAML_SEQUENCE_START_EVENT: event.data.sequence_start.anchor
                    default: event.data.mapping_start.anchor
                    }
                if anchor != nil {
                    throw ParseError(line: line, message: "YAML anchors (&name) are not allowed in policies")
                }
            }
        }

        private mutating func add(_ node: YAMLNode) throws(ParseError) {
            guard let top = stack.popLast() else {
                document = node
                return
            }
            switch top {
            case .sequence(var items, let line):
                items.append(node)
                stack.append(.sequence(items, line: line))
            case .mapping(var pairs, let pendingKey, var keys, let line):
                if let key = pendingKey {
                    pairs.append((key, node))
                    stack.append(.mapping(pairs, pendingKey: nil, keys: keys, line: line))
                } else {
                    guard let name = node.string else {
                        throw ParseError(line: node.line, message: "mapping keys must be plain strings")
                    }
                    guard keys.insert(name).inserted else {
                        throw ParseError(line: node.line, message: "duplicate key '\(name)'")
                    }
                    stack.append(.mapping(pairs, pendingKey: node, keys: keys, line: line))
                }
            }
        }
    }
}
