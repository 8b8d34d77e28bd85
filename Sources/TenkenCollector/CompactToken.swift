import TenkenBase

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
        if ReportPayload.isCompressed(contentType: verified.contentType) {
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

    /// nil when the stored payload is damaged (an agent's frame is checked by inflating it).
    public var token: String? {
        let content = Zstd.decompress(payload, limit: ReportPayload.largestReport)
        let signed =
            ReportPayload.isCompressed(contentType: JWS.contentType(ofProtectedHeader: header))
            ? content.map { _ in payload } : content
        return signed.map { header + "." + Base64URL.encode($0) + "." + signature }
    }
}
