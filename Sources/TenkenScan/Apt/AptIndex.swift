import CCompression
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// One Packages list from /var/lib/apt/lists, reduced to what candidate selection needs: the
/// versions it offers of installed packages, and the release it belongs to.
public struct AptIndex: Sendable {
    /// A version of an installed package that the list offers, for one architecture.
    public struct Offer: Sendable, Hashable {
        public let name: String
        public let version: String
        public let architecture: String
        /// The stanza's Debian tags (debtags: "protocol::bittorrent", "role::program", ...).
        public var tags: [String] = []
    }

    public let file: String
    public let release: AptRelease
    public let offers: [Offer]

    /// Reads the Package/Version/Architecture of every stanza whose package is in `names`;
    /// the rest are skipped without building strings.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, names: Set<String>) -> (offers: [Offer], damaged: Int) {
        var offers: [Offer] = []
        var damaged = 0
        var index = 0
        let count = bytes.count
        var name: String?
        var version: String?
        var architecture: String?
        var tags: [String] = []
        var inTags = false
        var skipping = false
        var sawField = false

        func finish() {
            if let name, let version, !skipping {
                offers.append(Offer(name: name, version: version, architecture: architecture ?? "", tags: tags))
            } else if !skipping && sawField {
                damaged += 1
            }
            name = nil
            version = nil
            architecture = nil
            tags = []
            inTags = false
            skipping = false
            sawField = false
        }

        while index < count {
            var end = index
            if let found = memchr(bytes.baseAddress! + index, 0x0A, count - index) {
                end = bytes.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
            } else {
                end = count
            }
            let length = end - index
            if length == 0 || (length == 1 && bytes[index] == 0x0D) {
                finish()
            } else if !skipping {
                sawField = true
                let line = UnsafeBufferPointer(rebasing: bytes[index..<end])
                let continues = line[0] == 0x20 || line[0] == 0x09
                if continues {
                    if inTags { tags += Self.tagList(line) }
                } else if let value = Self.value(line, field: "Package: ") {
                    name = value
                    if !names.contains(value) { skipping = true }
                } else if let value = Self.value(line, field: "Version: ") {
                    version = value
                } else if let value = Self.value(line, field: "Architecture: ") {
                    architecture = value
                } else if line.starts(with: "Tag:".utf8) {
                    tags += Self.tagList(UnsafeBufferPointer(rebasing: line[4...]))
                }
                if !continues { inTags = line.starts(with: "Tag:".utf8) }
            }
            index = end + 1
        }
        finish()
        return (offers, damaged)
    }

    /// "a::b, c::d," → ["a::b", "c::d"].
    private static func tagList(_ line: UnsafeBufferPointer<UInt8>) -> [String] {
        line.split(separator: 0x2C).compactMap { part in
            let tag = part.drop { $0 == 0x20 || $0 == 0x09 }.prefix { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }
            return tag.isEmpty ? nil : String(decoding: tag, as: UTF8.self)
        }
    }

    private static func value(_ line: UnsafeBufferPointer<UInt8>, field: StaticString) -> String? {
        let size = field.utf8CodeUnitCount
        guard line.count > size, memcmp(line.baseAddress!, field.utf8Start, size) == 0 else { return nil }
        var end = line.count
        while end > size && (line[end - 1] == 0x0D || line[end - 1] == 0x20) { end -= 1 }
        return String(validating: UnsafeBufferPointer(rebasing: line[size..<end]), as: UTF8.self)
    }
}

/// Decompresses a stored apt list by its file name's extension.
enum CompressedFile {
    static let suffixes: [(String, tenken_compression?)] = [
        ("", nil), (".gz", TENKEN_GZIP), (".lz4", TENKEN_LZ4), (".zst", TENKEN_ZSTD), (".xz", TENKEN_XZ),
    ]
}

/// A Packages list parsed as it streams in: each chunk's complete stanzas at once, the stanza it
/// ends inside kept for the next. Memory is a chunk and one stanza, whatever the list's size or
/// what it inflates to (a decompression bomb costs time, bounded by the decompression limit,
/// not memory).
struct ListStream {
    let names: Set<String>
    private(set) var offers: [AptIndex.Offer] = []
    private(set) var damaged = 0
    /// The stanza the last chunk ended inside.
    private var carry: [UInt8] = []
    /// Longer than any real stanza (Debian's longest are a few kilobytes); more is not a list.
    static let largestStanza = 16 << 20

    init(names: Set<String>) { self.names = names }

    /// False when a stanza grows past `largestStanza`.
    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let last = Self.lastBoundary(chunk) else {
            carry.append(contentsOf: chunk)
            return carry.count <= Self.largestStanza
        }
        var start = 0
        if !carry.isEmpty {
            // The carried stanza ends at the chunk's first boundary.
            let first = Self.firstBoundary(chunk) ?? last
            carry.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[..<first]))
            carry.withUnsafeBufferPointer { parse($0) }
            carry.removeAll(keepingCapacity: true)
            start = first
        }
        if start < last { parse(UnsafeBufferPointer(rebasing: chunk[start..<last])) }
        carry.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[last...]))
        return carry.count <= Self.largestStanza
    }

    /// Parses what was carried past the last chunk.
    mutating func finish() {
        carry.withUnsafeBufferPointer { parse($0) }
        carry = []
    }

    private mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        let (found, bad) = AptIndex.parse(bytes, names: names)
        offers += found
        damaged += bad
    }

    /// Just past the first empty line ("\n\n" or "\n\r\n").
    static func firstBoundary(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 1
        while index < bytes.count {
            if bytes[index] == 0x0A
                && (bytes[index - 1] == 0x0A || (index >= 2 && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A))
            {
                return index + 1
            }
            index += 1
        }
        return nil
    }

    /// Just past the last empty line.
    static func lastBoundary(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = bytes.count - 1
        while index >= 1 {
            if bytes[index] == 0x0A
                && (bytes[index - 1] == 0x0A || (index >= 2 && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A))
            {
                return index + 1
            }
            index -= 1
        }
        return nil
    }
}

extension CompressedFile {
    /// Debian's largest Packages list is ~70 MB uncompressed; a list that inflates past this is not one.
    static let inflatedLimit = 512 << 20

    /// Parses a list file as it is read (plain) or inflated (compressed), a window at a time.
    static func parseList(
        _ directory: Directory, _ name: FileName, format: tenken_compression?, path: String, names: Set<String>,
        limit: Int, inflatedLimit: Int = inflatedLimit
    ) throws(HostReadError) -> (offers: [AptIndex.Offer], damaged: Int) {
        final class Box {
            var stream: ListStream
            init(_ stream: ListStream) { self.stream = stream }
        }
        let box = Box(ListStream(names: names))
        var tooLong = false
        if let format {
            // The compressed bytes are read whole (a few MB); what they inflate to is not.
            let bytes = try directory.readFile(name, limit: limit)
            let status = withExtendedLifetime(box) {
                bytes.withUnsafeBufferPointer { input in
                    tenken_decompress_each(
                        format, input.baseAddress, input.count, inflatedLimit, 1 << 20,
                        { context, data, length in
                            let box = Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue()
                            return box.stream.feed(UnsafeBufferPointer(start: data, count: length)) ? 0 : 1
                        }, Unmanaged.passUnretained(box).toOpaque())
                }
            }
            tooLong = status == 1
            if status == -1 { throw HostReadError(path: path, reason: .corrupt) }
            if status == -2 { throw HostReadError(path: path, reason: .tooLarge(limit: inflatedLimit)) }
        } else {
            try directory.readChunks(name, limit: limit) { chunk in
                guard box.stream.feed(chunk) else {
                    tooLong = true
                    return false
                }
                return true
            }
        }
        guard !tooLong else { throw HostReadError(path: path, reason: .corrupt) }
        box.stream.finish()
        return (box.stream.offers, box.stream.damaged)
    }
}
