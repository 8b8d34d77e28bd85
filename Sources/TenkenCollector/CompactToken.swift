import TenkenCore

/// How the store keeps a signed report: the protected header and signature as they came, and
/// the payload as a zstd frame, about a fifth of the token's size (a year of reports must be
/// kept). An agent's payload already is one (`ReportPayload`) and is kept as signed; a plain
/// JSON payload is compressed here. base64url without padding is canonical, so the token is
/// rebuilt byte for byte and still verifies.
public struct CompactToken: Sendable, Equatable {
    let header: String
    let payload: [UInt8]
    let signature: String

    /// From a verified report; nil only if zstd fails.
    init?(_ verified: JWS.Verified) {
        if verified.contentType == ReportPayload.zstdContentType {
            self.init(header: verified.protectedHeader, payload: verified.payload, signature: verified.signature)
            return
        }
        guard let compressed = Zstd.compress(verified.payload, level: 1) else { return nil }
        self.init(header: verified.protectedHeader, payload: compressed, signature: verified.signature)
    }

    /// From a whole token (reports stored before reports were kept compact; they were
    /// verified when received, so JWS's own parsing serves here too).
    init?(token: String) {
        guard let verified = try? JWS.verify(token) else { return nil }
        self.init(verified)
    }

    init(header: String, payload: [UInt8], signature: String) {
        self.header = header
        self.payload = payload
        self.signature = signature
    }

    /// nil when the stored payload is damaged.
    public var token: String? {
        let signed = JWS.contentType(ofProtectedHeader: header) == ReportPayload.zstdContentType ? payload
            : Zstd.decompress(payload, limit: 64 << 20)
        return signed.map { header + "." + Base64URL.encode($0) + "." + signature }
    }
}
