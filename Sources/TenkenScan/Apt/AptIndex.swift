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

    /// Calls `body` with the file's uncompressed bytes. Corrupt data is an error, not a short list.
    static func withContents<R>(
        _ bytes: [UInt8], format: tenken_compression?, path: String,
        _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) throws(HostReadError) -> R {
        guard let format else { return bytes.withUnsafeBufferPointer(body) }
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let limit = 512 << 20  // Debian's largest Packages list is ~70 MB uncompressed
        let status = bytes.withUnsafeBufferPointer {
            tenken_decompress(format, $0.baseAddress, $0.count, limit, &output, &length)
        }
        guard status == 0, let output else {
            throw HostReadError(path: path, reason: status == -2 ? .tooLarge(limit: limit) : .corrupt)
        }
        defer { free(output) }
        return body(UnsafeBufferPointer(start: output, count: length))
    }
}
