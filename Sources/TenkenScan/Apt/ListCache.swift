import Crypto
import TenkenBase

/// What apt's lists offered the installed packages, by the identity of each list file (device,
/// inode, size, mtime, ctime), so a periodic check does not decompress and parse 60 MB of lists
/// that have not changed since the last `apt update`. Kept beside the content cache, for one set
/// of installed packages: installing or removing one starts it over. Like that cache, it only
/// saves time: one that cannot be read is ignored.
struct ListCache: Sendable {
    static let fileName = "lists-cache"
    static let magic = Array("tenken-lists-cache 1\n".utf8)
    static let maximumBytes = 64 << 20

    let installedDigest: [UInt8]
    private var earlier: [FileIdentity: (offers: [AptIndex.Offer], damaged: Int)] = [:]
    private var current: [FileIdentity: (offers: [AptIndex.Offer], damaged: Int)] = [:]

    init(installed: Set<String>) {
        var hash = SHA256()
        for name in installed.sorted() { hash.update(data: Array(name.utf8) + [0]) }
        installedDigest = Array(hash.finalize())
    }

    mutating func lookUp(_ identity: FileIdentity) -> (offers: [AptIndex.Offer], damaged: Int)? {
        guard let found = earlier[identity] else { return nil }
        current[identity] = found
        return found
    }

    mutating func record(_ identity: FileIdentity, offers: [AptIndex.Offer], damaged: Int) {
        current[identity] = (offers, damaged)
    }

    /// The cache as the next check starts with it (the agent keeps it in memory): the lists this check used.
    func carriedOver() -> ListCache {
        var next = self
        next.earlier = current
        next.current = [:]
        return next
    }

    /// The agent's memory slot.
    static let slot = "lists-cache"

    mutating func load(from state: StateDirectory) {
        guard let bytes = try? state.read(Self.fileName, limit: Self.maximumBytes, privateFile: true) else { return }
        var reader = ByteReader(bytes: bytes)
        // Not ours, damaged, or for other packages: parsed again, which is only slower.
        guard reader.take(Self.magic.count) == Self.magic, reader.take(32) == installedDigest,
            let count = reader.integer(4)
        else { return }
        var entries: [FileIdentity: (offers: [AptIndex.Offer], damaged: Int)] = [:]
        for _ in 0..<count {
            guard let identity = reader.identity(), let damaged = reader.integer(4), let offerCount = reader.integer(4)
            else { return }
            var offers: [AptIndex.Offer] = []
            for _ in 0..<offerCount {
                guard let name = reader.text(), let version = reader.text(), let architecture = reader.text(),
                    let tagCount = reader.integer(2)
                else { return }
                var tags: [String] = []
                for _ in 0..<tagCount {
                    guard let tag = reader.text() else { return }
                    tags.append(tag)
                }
                offers.append(AptIndex.Offer(name: name, version: version, architecture: architecture, tags: tags))
            }
            entries[identity] = (offers, Int(damaged))
        }
        guard reader.atEnd else { return }
        earlier = entries
    }

    /// Written only when something changed; a failure to write costs the next check time only.
    func save(to state: StateDirectory) {
        guard Set(current.keys) != Set(earlier.keys) else { return }
        var writer = ByteWriter()
        writer.bytes = Self.magic + installedDigest
        writer.integer(UInt64(current.count), 4)
        for (identity, entry) in current {
            writer.identity(identity)
            writer.integer(UInt64(entry.damaged), 4)
            writer.integer(UInt64(entry.offers.count), 4)
            for offer in entry.offers {
                writer.text(offer.name)
                writer.text(offer.version)
                writer.text(offer.architecture)
                writer.integer(UInt64(offer.tags.count), 2)
                for tag in offer.tags { writer.text(tag) }
            }
        }
        try? state.write(Self.fileName, writer.bytes, mode: 0o600)
    }
}

/// Little-endian fields of tenken's own cache files, bounds checked.
struct ByteReader {
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

    /// A file identity as `ByteWriter.identity` stores it.
    mutating func identity() -> FileIdentity? {
        guard let device = integer(8), let inode = integer(8), let size = integer(8), let modified = integer(8),
            let changed = integer(8)
        else { return nil }
        return FileIdentity(
            device: device, inode: inode, size: Int(truncatingIfNeeded: size),
            modified: Int64(bitPattern: modified), changed: Int64(bitPattern: changed))
    }

    /// A string stored with its length in two bytes.
    mutating func text() -> String? {
        guard let length = integer(2), let field = take(Int(length)) else { return nil }
        return String(decoding: field, as: UTF8.self)
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func integer(_ value: UInt64, _ size: Int) {
        for index in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    /// Device, inode, size, mtime and ctime, eight bytes each.
    mutating func identity(_ identity: FileIdentity) {
        for value in [identity.device, identity.inode, UInt64(truncatingIfNeeded: identity.size)] { integer(value, 8) }
        integer(UInt64(bitPattern: identity.modified), 8)
        integer(UInt64(bitPattern: identity.changed), 8)
    }

    mutating func text(_ value: String) {
        let field = Array(value.utf8.prefix(0xFFFF))
        integer(UInt64(field.count), 2)
        bytes += field
    }
}
