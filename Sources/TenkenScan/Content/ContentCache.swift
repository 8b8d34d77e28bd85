import Crypto
import TenkenBase

/// What earlier checks learned of program files, by the identity of each file's version (device,
/// inode, size, mtime, ctime: a write moves ctime, which no one can set back without setting the
/// clock back), so a periodic check reads only what changed. It lives in tenken's state
/// directory (root's, 0600), as trustworthy as the machine key beside it, and is kept only for
/// the rules it was made with: a new catalog starts it over.
struct ContentCache: Sendable {
    enum Outcome: Sendable {
        /// The file's md5sum (32 hex digits), for an owned file changed since its list.
        case checksum([UInt8])
        /// What inspection found (nothing, or marks).
        case inspected(ProgramInspector.Result)
    }

    static let fileName = "content-cache"
    static let magic = Array("tenken-content-cache 4\n".utf8)
    /// More entries than a machine has programs; a larger file is not ours.
    static let maximumBytes = 256 << 20

    let rulesDigest: [UInt8]
    /// An owned file that changed has both a checksum and, when that differs, an inspection:
    /// each is kept under its own key, or each check would replace the other and redo both.
    struct Key: Hashable, Sendable {
        let identity: FileIdentity
        let isChecksum: Bool
    }
    private var earlier: [Key: Outcome] = [:]
    /// What this check used or learned: all that is written back, so entries of files that are
    /// gone do not pile up.
    private var current: [Key: Outcome] = [:]
    /// Entries of `earlier` used by this check, each once.
    private(set) var hits = 0

    init(rules: ContentRules) { rulesDigest = Self.digest(of: rules) }

    mutating func checksum(_ identity: FileIdentity) -> [UInt8]? {
        guard case .checksum(let hex) = lookUp(Key(identity: identity, isChecksum: true)) else { return nil }
        return hex
    }

    mutating func inspection(_ identity: FileIdentity) -> ProgramInspector.Result? {
        guard case .inspected(let result) = lookUp(Key(identity: identity, isChecksum: false)) else { return nil }
        return result
    }

    private mutating func lookUp(_ key: Key) -> Outcome? {
        guard let found = earlier[key] else { return nil }
        // A file met twice (two names the walk could not tell apart) is one use.
        if current.updateValue(found, forKey: key) == nil { hits += 1 }
        return found
    }

    mutating func record(_ identity: FileIdentity, _ outcome: Outcome) {
        if case .checksum = outcome {
            current[Key(identity: identity, isChecksum: true)] = outcome
        } else {
            current[Key(identity: identity, isChecksum: false)] = outcome
        }
    }

    /// Whether writing it back would change what the next check reads: something was learned,
    /// or an entry was not used (its file is gone or changed).
    var changed: Bool { current.count != hits || earlier.count != hits }

    /// The cache as the next check starts with it (the agent keeps it in memory rather than
    /// reading the file again): what this check used or learned.
    func carriedOver() -> ContentCache {
        var next = self
        next.earlier = current
        next.current = [:]
        // Sized for a check that uses it all, as most do: no table grown entry by entry.
        next.current.reserveCapacity(current.count)
        next.hits = 0
        return next
    }

    /// The agent's memory slot.
    static let slot = "content-cache"

    /// What the readers find for the same bytes; raised whenever a reader learns to see more, so
    /// results of an older tenken are not believed.
    static let readersVersion = 1

    /// Everything that makes one set of rules, or one version of the readers, find what another
    /// would not.
    static func digest(of rules: ContentRules) -> [UInt8] {
        var hash = SHA256()
        func add(_ text: String) { hash.update(data: Array(text.utf8) + [0]) }
        add("readers \(readersVersion)")
        for engine in rules.engines { add(engine.id + ":" + engine.libraries.joined(separator: ",")) }
        for item in rules.protocols {
            add(item.id)
            for signature in item.signatures { hash.update(data: signature.bytes + [signature.anywhere ? 1 : 0, 0]) }
        }
        return Array(hash.finalize())
    }

    // MARK: - Storage

    /// Reads a stored cache; one of other rules, or damaged, is started over (nil: a note says why).
    mutating func load(_ bytes: [UInt8]) -> Localized? {
        var reader = ByteReader(bytes: bytes)
        guard reader.take(Self.magic.count) == Self.magic else { return Self.damaged }
        guard let digest = reader.take(32) else { return Self.damaged }
        guard digest == rulesDigest else { return nil }
        guard let count = reader.integer(4) else { return Self.damaged }
        var entries: [Key: Outcome] = [:]
        entries.reserveCapacity(Int(min(count, 1 << 20)))
        for _ in 0..<count {
            guard let identity = reader.identity(), let kind = reader.integer(1),
                let outcome = Self.outcome(kind, &reader)
            else { return Self.damaged }
            entries[Key(identity: identity, isChecksum: kind == 0)] = outcome
        }
        guard reader.atEnd else { return Self.damaged }
        earlier = entries
        return nil
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes = Self.magic + rulesDigest
        writer.integer(UInt64(current.count), 4)
        for (key, outcome) in current {
            writer.identity(key.identity)
            switch outcome {
            case .checksum(let hex):
                writer.integer(0, 1)
                writer.bytes += hex.count == 32 ? hex : [UInt8](repeating: 0x30, count: 32)
            case .inspected(let result):
                writer.integer(1, 1)
                writer.integer(UInt64(Self.formats.firstIndex(of: result.format) ?? 0), 1)
                writer.integer(UInt64(result.linked.count), 2)
                for (library, engine) in result.linked {
                    writer.integer(UInt64(engine), 2)
                    writer.text(library)
                }
                writer.integer(UInt64(result.searchPaths.count), 2)
                for (path, engine) in result.searchPaths {
                    writer.integer(UInt64(engine), 2)
                    writer.text(path)
                }
                writer.integer(UInt64(result.signatures.count), 2)
                for signature in result.signatures {
                    writer.integer(UInt64(signature.protocolIndex), 2)
                    writer.integer(UInt64(signature.signature), 2)
                }
                let lists = result.appImage.map { [$0.names, $0.commands, $0.programs, $0.members] } ?? []
                writer.integer(UInt64(lists.count), 1)
                for list in lists {
                    writer.integer(UInt64(list.count), 2)
                    for text in list { writer.text(text) }
                }
                let strings = (result.windows?.strings ?? [:]).sorted { $0.key < $1.key }
                writer.integer(UInt64(strings.count), 1)
                for (key, value) in strings {
                    writer.text(key)
                    writer.text(value)
                }
            }
        }
        return writer.bytes
    }

    /// Stored by index: new formats go at the end.
    private static let formats: [InspectedProgram.Format] = [.elf, .script, .other, .windows, .appImage]
    private static let damaged = Localized(
        ja: "内容のキャッシュが壊れていたため作り直します", en: "the content cache was damaged and is made anew")

    private static func outcome(_ kind: UInt64, _ reader: inout ByteReader) -> Outcome? {
        switch kind {
        case 0:
            guard let hex = reader.take(32) else { return nil }
            return .checksum(hex)
        case 1:
            guard let format = reader.integer(1), Int(format) < formats.count, let linkedCount = reader.integer(2)
            else { return nil }
            var result = ProgramInspector.Result(format: formats[Int(format)])
            for _ in 0..<linkedCount {
                guard let engine = reader.integer(2), let name = reader.text() else { return nil }
                result.linked.append((name, Int(engine)))
            }
            guard let searchCount = reader.integer(2) else { return nil }
            for _ in 0..<searchCount {
                guard let engine = reader.integer(2), let path = reader.text() else { return nil }
                result.searchPaths.append((path, Int(engine)))
            }
            guard let signatureCount = reader.integer(2) else { return nil }
            for _ in 0..<signatureCount {
                guard let item = reader.integer(2), let signature = reader.integer(2) else { return nil }
                result.signatures.append(SignatureID(protocolIndex: Int(item), signature: Int(signature)))
            }
            guard let listCount = reader.integer(1), listCount == 0 || listCount == 4 else { return nil }
            var lists: [[String]] = []
            for _ in 0..<listCount {
                guard let count = reader.integer(2) else { return nil }
                var list: [String] = []
                for _ in 0..<count {
                    guard let text = reader.text() else { return nil }
                    list.append(text)
                }
                lists.append(list)
            }
            if lists.count == 4 {
                result.appImage = AppImageContents(
                    names: lists[0], commands: lists[1], programs: lists[2], members: lists[3])
            }
            guard let stringCount = reader.integer(1) else { return nil }
            var strings: [String: String] = [:]
            for _ in 0..<stringCount {
                guard let key = reader.text(), let value = reader.text() else { return nil }
                strings[key] = value
            }
            if !strings.isEmpty { result.windows = WindowsVersionInfo(strings: strings) }
            return .inspected(result)
        default: return nil
        }
    }
}
