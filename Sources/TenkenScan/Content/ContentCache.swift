import Crypto
import TenkenBase

/// What earlier checks learned of program files, by the identity of each file's version (device,
/// inode, size, mtime, ctime: a write moves ctime, which no one can set back without setting the
/// clock back), so a periodic check reads only what changed. It lives in tenken's state
/// directory (root's, 0600), as trustworthy as the machine key beside it, and is kept only for
/// the rules it was made with: a new catalog starts it over.
struct ContentCache {
    enum Outcome {
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
    private var earlier: [FileIdentity: Outcome] = [:]
    /// What this check used or learned: all that is written back, so entries of files that are
    /// gone do not pile up.
    private var current: [FileIdentity: Outcome] = [:]
    private(set) var hits = 0

    init(rules: ContentRules) { rulesDigest = Self.digest(of: rules) }

    mutating func lookUp(_ identity: FileIdentity) -> Outcome? {
        guard let found = earlier[identity] else { return nil }
        hits += 1
        current[identity] = found
        return found
    }

    mutating func record(_ identity: FileIdentity, _ outcome: Outcome) { current[identity] = outcome }

    /// Everything that makes one set of rules find what another would not.
    static func digest(of rules: ContentRules) -> [UInt8] {
        var hash = SHA256()
        func add(_ text: String) { hash.update(data: Array(text.utf8) + [0]) }
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
        var reader = Reader(bytes: bytes)
        guard reader.take(Self.magic.count) == Self.magic else { return Self.damaged }
        guard let digest = reader.take(32) else { return Self.damaged }
        guard digest == rulesDigest else { return nil }
        guard let count = reader.integer(4) else { return Self.damaged }
        var entries: [FileIdentity: Outcome] = [:]
        for _ in 0..<count {
            guard let device = reader.integer(8), let inode = reader.integer(8), let size = reader.integer(8),
                let modified = reader.integer(8), let changed = reader.integer(8), let kind = reader.integer(1),
                let outcome = Self.outcome(kind, &reader)
            else { return Self.damaged }
            let identity = FileIdentity(
                device: device, inode: inode, size: Int(truncatingIfNeeded: size),
                modified: Int64(bitPattern: modified), changed: Int64(bitPattern: changed))
            entries[identity] = outcome
        }
        guard reader.atEnd else { return Self.damaged }
        earlier = entries
        return nil
    }

    func encoded() -> [UInt8] {
        var bytes = Self.magic + rulesDigest
        append(&bytes, UInt64(current.count), 4)
        for (identity, outcome) in current {
            for value in [identity.device, identity.inode, UInt64(truncatingIfNeeded: identity.size)] {
                append(&bytes, value, 8)
            }
            append(&bytes, UInt64(bitPattern: identity.modified), 8)
            append(&bytes, UInt64(bitPattern: identity.changed), 8)
            switch outcome {
            case .checksum(let hex):
                append(&bytes, 0, 1)
                bytes += hex.count == 32 ? hex : [UInt8](repeating: 0x30, count: 32)
            case .inspected(let result):
                append(&bytes, 1, 1)
                append(&bytes, UInt64(Self.formats.firstIndex(of: result.format) ?? 0), 1)
                append(&bytes, UInt64(result.linked.count), 2)
                for (library, engine) in result.linked {
                    let name = Array(library.utf8.prefix(0xFFFF))
                    append(&bytes, UInt64(engine), 2)
                    append(&bytes, UInt64(name.count), 2)
                    bytes += name
                }
                append(&bytes, UInt64(result.searchPaths.count), 2)
                for (path, engine) in result.searchPaths {
                    let name = Array(path.utf8.prefix(0xFFFF))
                    append(&bytes, UInt64(engine), 2)
                    append(&bytes, UInt64(name.count), 2)
                    bytes += name
                }
                append(&bytes, UInt64(result.signatures.count), 2)
                for signature in result.signatures {
                    append(&bytes, UInt64(signature.protocolIndex), 2)
                    append(&bytes, UInt64(signature.signature), 2)
                }
                let lists = result.appImage.map { [$0.names, $0.commands, $0.programs, $0.members] } ?? []
                append(&bytes, UInt64(lists.count), 1)
                for list in lists {
                    append(&bytes, UInt64(list.count), 2)
                    for text in list {
                        let field = Array(text.utf8.prefix(0xFFFF))
                        append(&bytes, UInt64(field.count), 2)
                        bytes += field
                    }
                }
                let strings = (result.windows?.strings ?? [:]).sorted { $0.key < $1.key }
                append(&bytes, UInt64(strings.count), 1)
                for (key, value) in strings {
                    for text in [key, value] {
                        let field = Array(text.utf8.prefix(0xFFFF))
                        append(&bytes, UInt64(field.count), 2)
                        bytes += field
                    }
                }
            }
        }
        return bytes
    }

    /// Stored by index: new formats go at the end.
    private static let formats: [InspectedProgram.Format] = [.elf, .script, .other, .windows, .appImage]
    private static let damaged = Localized(
        ja: "内容のキャッシュが壊れていたため作り直します", en: "the content cache was damaged and is made anew")

    private static func outcome(_ kind: UInt64, _ reader: inout Reader) -> Outcome? {
        switch kind {
        case 0:
            guard let hex = reader.take(32) else { return nil }
            return .checksum(hex)
        case 1:
            guard let format = reader.integer(1), Int(format) < formats.count, let linkedCount = reader.integer(2)
            else { return nil }
            var result = ProgramInspector.Result(format: formats[Int(format)])
            for _ in 0..<linkedCount {
                guard let engine = reader.integer(2), let length = reader.integer(2),
                    let name = reader.take(Int(length))
                else { return nil }
                result.linked.append((String(decoding: name, as: UTF8.self), Int(engine)))
            }
            guard let searchCount = reader.integer(2) else { return nil }
            for _ in 0..<searchCount {
                guard let engine = reader.integer(2), let length = reader.integer(2),
                    let name = reader.take(Int(length))
                else { return nil }
                result.searchPaths.append((String(decoding: name, as: UTF8.self), Int(engine)))
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
                    guard let length = reader.integer(2), let text = reader.take(Int(length)) else { return nil }
                    list.append(String(decoding: text, as: UTF8.self))
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
                guard let keyLength = reader.integer(2), let key = reader.take(Int(keyLength)),
                    let valueLength = reader.integer(2), let value = reader.take(Int(valueLength))
                else { return nil }
                strings[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            }
            if !strings.isEmpty { result.windows = WindowsVersionInfo(strings: strings) }
            return .inspected(result)
        default: return nil
        }
    }

    private func append(_ bytes: inout [UInt8], _ value: UInt64, _ size: Int) {
        for index in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    /// Little-endian fields of the stored cache, bounds checked.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var atEnd: Bool { offset == bytes.count }

        mutating func take(_ count: Int) -> [UInt8]? {
            guard count >= 0, count <= bytes.count - offset else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }

        mutating func integer(_ size: Int) -> UInt64? {
            guard let field = take(size) else { return nil }
            return field.reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}
