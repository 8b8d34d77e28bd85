import TenkenCore

/// How the store keeps a signed report: the protected header and signature as they came, and
/// the payload's JSON compressed with zstd, about a tenth of the token's size (a year of
/// reports must be kept). base64url without padding is canonical, so the token is rebuilt
/// byte for byte and still verifies.
public struct CompactToken: Sendable, Equatable {
    let header: String
    let payload: [UInt8]
    let signature: String

    /// From a verified report; nil only if zstd fails.
    init?(_ verified: JWS.Verified) {
        guard let compressed = Zstd.compress(verified.payload, level: 1) else { return nil }
        self.init(header: verified.protectedHeader, payload: compressed, signature: verified.signature)
    }

    /// From a whole token (reports stored before reports were kept compact).
    init?(token: String) {
        let bytes = Array(token.utf8)
        guard let first = bytes.firstIndex(of: 0x2E), let last = bytes.lastIndex(of: 0x2E), first < last,
              let json = Base64URL.decode(bytes: bytes[(first + 1)..<last]), let compressed = Zstd.compress(json, level: 1) else { return nil }
        self.init(header: String(decoding: bytes[..<first], as: UTF8.self), payload: compressed,
                  signature: String(decoding: bytes[(last + 1)...], as: UTF8.self))
    }

    init(header: String, payload: [UInt8], signature: String) {
        self.header = header
        self.payload = payload
        self.signature = signature
    }

    /// nil when the stored payload is damaged.
    public var token: String? {
        Zstd.decompress(payload, limit: 64 << 20).map { header + "." + Base64URL.encode($0) + "." + signature }
    }
}
