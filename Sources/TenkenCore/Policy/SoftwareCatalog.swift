/// One application the catalog knows, listed once with every way it can appear on a machine.
public struct CatalogEntry: Sendable, Codable, Hashable {
    public let id: String
    public let name: String
    public var category: String = ""
    public let deb: [String]
    public let rpm: [String]
    public let snap: [String]
    public let flatpak: [String]
    /// Program names on Linux; also matched as AppImage name prefixes and process names.
    public let executables: [String]
    /// Windows executables run under Wine (Winny.exe, Share.exe, ...).
    public let wine: [String]
    /// Install locations: absolute, or `~/` for every home directory.
    public let paths: [String]
    public let ports: [PortRange]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, deb, rpm, snap, flatpak, executables, wine, paths, ports
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        func list(_ key: CodingKeys) throws -> [String] { try container.decodeIfPresent([String].self, forKey: key) ?? [] }
        deb = try list(.deb)
        rpm = try list(.rpm)
        snap = try list(.snap)
        flatpak = try list(.flatpak)
        executables = try list(.executables)
        wine = try list(.wine)
        paths = try list(.paths)
        ports = try container.decodeIfPresent([PortRange].self, forKey: .ports) ?? []
    }
}

/// "tcp/6881-6889" or "udp/4672": a default port an application listens on.
public struct PortRange: Sendable, Codable, Hashable, CustomStringConvertible {
    public let transport: ListeningSocket.Transport
    public let ports: ClosedRange<UInt16>

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = PortRange(text) else {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a port like tcp/6881 or udp/6881-6889"))
        }
        self = parsed
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let transport = ListeningSocket.Transport(rawValue: String(parts[0])) else { return nil }
        let bounds = parts[1].split(separator: "-").map { UInt16($0) }
        guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil, low <= high else {
            return nil
        }
        self.transport = transport
        self.ports = low...high
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        let range = ports.count == 1 ? "\(ports.lowerBound)" : "\(ports.lowerBound)-\(ports.upperBound)"
        return "\(transport.rawValue)/\(range)"
    }

    public func contains(_ socket: ListeningSocket) -> Bool {
        socket.transport == transport && ports.contains(socket.port)
    }
}

/// One catalog file: a category and its applications.
public struct CatalogFile: Sendable, Codable {
    public let category: String
    public let title: Localized
    public let software: [CatalogEntry]

    enum CodingKeys: String, CodingKey, CaseIterable { case category, title, software }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let category = try container.decode(String.self, forKey: .category)
        self.category = category
        title = try container.decode(Localized.self, forKey: .title)
        software = try container.decode([CatalogEntry].self, forKey: .software).map { entry in
            var entry = entry
            entry.category = category
            return entry
        }
    }
}

/// Every catalog file a policy loaded, by category.
public struct SoftwareCatalog: Sendable {
    public let categories: [String: CatalogFile]

    public init(_ files: [CatalogFile]) {
        categories = Dictionary(files.map { ($0.category, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func entries(in categories: [String]) -> [CatalogEntry] {
        categories.flatMap { self.categories[$0]?.software ?? [] }
    }
}
