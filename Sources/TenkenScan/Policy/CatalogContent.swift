import TenkenBase

/// Whether software that shows a category's marks is there to do what the category forbids, or
/// only can: a BitTorrent client fails a machine; a podcast client that can fetch torrents warns.
public enum SoftwarePurpose: String, Sendable, Hashable {
    /// Made for what the category forbids (file exchange): a match fails a `fail` rule.
    case forbidden
    /// Able to do it among other things: a match is named as dual-use and only warns.
    case dualUse = "dual-use"
}

/// A library that does the forbidden work for the programs that use it (a P2P engine): a package
/// that depends on it, or a program that links it, is that kind of software, whatever its name.
public struct CatalogEngine: Sendable, Hashable {
    public let id: String
    public let name: String
    public let category: String
    /// What the engine's users are, unless listed in `dualUse`.
    public let purpose: SoftwarePurpose
    /// Debian packages that are the engine (its library, its language bindings).
    public let deb: [String]
    /// Shared-object names as DT_NEEDED gives them, matched up to the first "." after them
    /// ("libtorrent.so" matches "libtorrent.so.21", not "libtorrent-rasterbar.so.2.0").
    public let libraries: [String]
    /// Packages that depend on the engine but only can do the forbidden thing.
    public let dualUse: Set<String>

    static let keys: Set<String> = ["id", "name", "purpose", "deb", "libraries", "dual-use"]

    init(_ yaml: YAMLObject, category: String) throws(PolicyError) {
        id = try yaml.string("id")
        name = try yaml.string("name")
        self.category = category
        purpose = try Self.purpose(yaml)
        deb = try yaml.strings("deb")
        libraries = try yaml.strings("libraries")
        dualUse = Set(try yaml.strings("dual-use"))
        guard !deb.isEmpty || !libraries.isEmpty else {
            throw yaml.error("deb", "an engine needs its packages (deb) or its libraries")
        }
    }

    static func purpose(_ yaml: YAMLObject) throws(PolicyError) -> SoftwarePurpose {
        let text = try yaml.optionalString("purpose") ?? SoftwarePurpose.forbidden.rawValue
        guard let purpose = SoftwarePurpose(rawValue: text) else {
            throw yaml.error("purpose", "'\(text)' is not forbidden or dual-use")
        }
        return purpose
    }

    /// Whether a DT_NEEDED entry names one of the engine's libraries.
    func links(_ needed: String) -> Bool {
        libraries.contains { library in
            needed == library || (needed.hasPrefix(library) && needed.dropFirst(library.count).first == ".")
        }
    }
}

/// A Debian tag (debtags, as apt's lists give them) that marks a package as the category's software.
public struct CatalogTag: Sendable, Hashable {
    public let tag: String
    public let purpose: SoftwarePurpose
    /// Tagged packages that only can do the forbidden thing (a podcast client, a game lobby).
    public let dualUse: Set<String>

    static let keys: Set<String> = ["tag", "purpose", "dual-use"]

    init(_ yaml: YAMLObject) throws(PolicyError) {
        tag = try yaml.string("tag")
        purpose = try CatalogEngine.purpose(yaml)
        dualUse = Set(try yaml.strings("dual-use"))
    }
}

/// A protocol whose constants compiled into a program show what it speaks: the BitTorrent
/// handshake, eD2k's server list file, Direct Connect's commands. Signatures are written in hex,
/// so tenken's own programs, which carry the catalog, never contain them.
public struct CatalogProtocol: Sendable, Hashable {
    public let id: String
    public let name: String
    public let category: String
    public let purpose: SoftwarePurpose
    public let signatures: [Signature]

    /// Bytes a program of the protocol carries, and what they are.
    public struct Signature: Sendable, Hashable {
        public let bytes: [UInt8]
        /// Whether it counts inside a longer word, not only as a whole word.
        public let anywhere: Bool
        /// What the bytes are, for the evidence ("the BitTorrent handshake").
        public let reason: Localized
    }

    static let keys: Set<String> = ["id", "name", "purpose", "signatures"]
    static let signatureKeys: Set<String> = ["hex", "anywhere", "reason"]
    /// Shorter strings occur by chance in large programs; longer ones would make the search's
    /// chunks overlap too much.
    static let shortestSignature = 8
    static let longestSignature = 256

    init(_ yaml: YAMLObject, category: String) throws(PolicyError) {
        id = try yaml.string("id")
        name = try yaml.string("name")
        self.category = category
        purpose = try CatalogEngine.purpose(yaml)
        var signatures: [Signature] = []
        for entry in try yaml.objects("signatures", keys: Self.signatureKeys) {
            let hex = try entry.string("hex")
            guard let bytes = ByteText.bytes(hex: hex) else { throw entry.error("hex", "'\(hex)' is not hex digits") }
            guard (Self.shortestSignature...Self.longestSignature).contains(bytes.count) else {
                throw entry.error(
                    "hex", "a signature has \(Self.shortestSignature) to \(Self.longestSignature) bytes")
            }
            signatures.append(
                Signature(
                    bytes: bytes, anywhere: try entry.bool("anywhere", default: false),
                    reason: try entry.localized("reason")))
        }
        guard signatures.count >= 2 else {
            // One signature is weak evidence; two are what make a strong match possible.
            throw yaml.error("signatures", "a protocol needs at least two signatures")
        }
        self.signatures = signatures
    }
}
