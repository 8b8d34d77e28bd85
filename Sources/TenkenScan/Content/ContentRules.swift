import TenkenBase

/// What content inspection looks for, compiled once per check from the catalogs of the
/// categories a forbidden-software rule names: the engines' libraries and every protocol's
/// signatures in one search.
public struct ContentRules: Sendable {
    /// Shared-object names that mark a program as using a P2P engine.
    public let engines: [CatalogEngine]
    public let protocols: [CatalogProtocol]
    /// One search over all protocols' signatures, in `signatureIDs` order.
    let search: SignatureSearch
    /// For each pattern of `search`: its protocol (index into `protocols`) and its signature.
    let signatureIDs: [SignatureID]

    public init(engines: [CatalogEngine], protocols: [CatalogProtocol]) {
        self.engines = engines
        self.protocols = protocols
        var ids: [SignatureID] = []
        var patterns: [SignatureSearch.Pattern] = []
        for (protocolIndex, item) in protocols.enumerated() {
            for (index, signature) in item.signatures.enumerated() {
                ids.append(SignatureID(protocolIndex: protocolIndex, signature: index))
                patterns.append(.init(bytes: signature.bytes, wholeWord: !signature.anywhere))
            }
        }
        signatureIDs = ids
        // A search needs a pattern; one that is never reported keeps it well-formed.
        search = SignatureSearch(patterns.isEmpty ? [.init(bytes: [0, 0], wholeWord: false)] : patterns)
    }

    public var isEmpty: Bool { engines.isEmpty && protocols.isEmpty }

    /// The engine whose library `needed` names, if any.
    func engine(linkedAs needed: String) -> Int? { engines.firstIndex { $0.links(needed) } }

    /// The engine a library search path (DT_RPATH, DT_RUNPATH) names by its library's stem
    /// ("/opt/app/libtorrent-rasterbar/lib"), if any.
    func engine(searchedIn path: String) -> Int? {
        let lowered = path.lowercased()
        return engines.firstIndex { engine in
            engine.libraries.contains { library in
                let stem = library.lowercased().hasSuffix(".so") ? String(library.lowercased().dropLast(3)) : library
                return lowered.split(separator: "/").contains { $0 == stem || $0.hasPrefix(stem + ".") }
            }
        }
    }
}

/// One signature of one protocol of `ContentRules`.
public struct SignatureID: Sendable, Hashable {
    public let protocolIndex: Int
    public let signature: Int
}
