import TenkenBase

/// One application the catalog knows, listed once with every way it can appear on a machine.
public struct CatalogEntry: Sendable, Hashable {
    public let id: String
    public let name: String
    public let category: String
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

    static let keys: Set<String> = [
        "id", "name", "deb", "rpm", "snap", "flatpak", "executables", "wine", "paths", "ports",
    ]

    init(_ yaml: YAMLObject, category: String) throws(PolicyError) {
        id = try yaml.string("id")
        name = try yaml.string("name")
        self.category = category
        deb = try yaml.strings("deb")
        rpm = try yaml.strings("rpm")
        snap = try yaml.strings("snap")
        flatpak = try yaml.strings("flatpak")
        executables = try yaml.strings("executables")
        wine = try yaml.strings("wine")
        paths = try yaml.strings("paths")
        for path in paths where !path.hasPrefix("/") && !path.hasPrefix("~/") {
            throw yaml.error("paths", "'\(path)' must be absolute or start with ~/")
        }
        var ports: [PortRange] = []
        for text in try yaml.strings("ports") {
            guard let port = PortRange(text) else {
                throw yaml.error("ports", "'\(text)' is not a port like tcp/6881 or udp/6881-6889")
            }
            ports.append(port)
        }
        self.ports = ports
    }
}

/// One catalog file: a category, its applications, and what marks software of the category that
/// the catalog does not name: engines, Debian tags and protocols.
public struct CatalogFile: Sendable {
    public let category: String
    public let title: Localized
    public let software: [CatalogEntry]
    public let engines: [CatalogEngine]
    public let tags: [CatalogTag]
    public let protocols: [CatalogProtocol]

    init(_ text: String, file: String) throws(PolicyError) {
        let yaml = try YAMLObject.document(
            text, file: file, keys: ["category", "title", "software", "engines", "tags", "protocols"])
        let category = try yaml.string("category")
        self.category = category
        title = try yaml.localized("title")
        func list<T>(_ key: String, _ keys: Set<String>, _ make: (YAMLObject) throws(PolicyError) -> T)
            throws(PolicyError) -> [T]
        {
            guard yaml.has(key) else { return [] }
            var items: [T] = []
            for item in try yaml.objects(key, keys: keys) { items.append(try make(item)) }
            return items
        }
        engines = try list("engines", CatalogEngine.keys) { item throws(PolicyError) in
            try CatalogEngine(item, category: category)
        }
        tags = try list("tags", CatalogTag.keys) { item throws(PolicyError) in try CatalogTag(item) }
        protocols = try list("protocols", CatalogProtocol.keys) { item throws(PolicyError) in
            try CatalogProtocol(item, category: category)
        }
        var software: [CatalogEntry] = []
        for entry in try yaml.objects("software", keys: CatalogEntry.keys) {
            software.append(try CatalogEntry(entry, category: category))
        }
        var ids = Set<String>()
        for entry in software where !ids.insert(entry.id).inserted {
            throw PolicyError(file: file, message: "software id '\(entry.id)' is listed twice")
        }
        self.software = software
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

    public func engines(in categories: [String]) -> [CatalogEngine] {
        categories.flatMap { self.categories[$0]?.engines ?? [] }
    }

    public func tags(in categories: [String]) -> [CatalogTag] {
        categories.flatMap { self.categories[$0]?.tags ?? [] }
    }

    public func protocols(in categories: [String]) -> [CatalogProtocol] {
        categories.flatMap { self.categories[$0]?.protocols ?? [] }
    }

    /// What content inspection looks for on behalf of rules over `categories`.
    public func contentRules(for categories: [String]) -> ContentRules {
        ContentRules(engines: engines(in: categories), protocols: protocols(in: categories))
    }
}
