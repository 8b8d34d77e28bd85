/// What a signed report's payload holds: the report's JSON (`tenken check --sign`, readable with
/// any JOSE tool), or that JSON in a zstd frame, declared by the protected header's "cty" as
/// application/zstd (RFC 8878), which is how agents send reports. Compressed before signing, a
/// report costs the network, the collector's hashing and its store about a fifth, and the
/// collector inflates only what a verified, enrolled key signed.
public enum ReportPayload {
    public static let zstdContentType = "application/zstd"
    /// The most JSON a kept report (spooled, stored, or given to `tenken verify`) is inflated to;
    /// the collector takes no more than its body limit.
    public static let largestReport = 64 << 20

    /// Why a verified payload does not yield the report's JSON: an unknown type, a damaged frame, or too
    /// large once inflated.
    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public let message: Localized
        /// Inflates past the limit, as opposed to damaged or of an unknown type.
        public var tooLarge = false
        public var description: String { message.en }
    }

    /// The report's JSON signed: `compressed` as agents deliver it, else as it is.
    public static func sign(_ json: [UInt8], with key: MachineKey, compressed: Bool) throws -> String {
        guard compressed else { return try JWS.sign(json, with: key) }
        guard let frame = Zstd.compress(json, level: 3) else {
            throw Unreadable(message: Localized(ja: "zstd で報告を圧縮できません", en: "zstd could not compress the report"))
        }
        return try JWS.sign(frame, with: key, contentType: zstdContentType)
    }

    /// Whether the payload is a zstd frame. RFC 7515 §4.1.10: a "cty" without "/" is read with
    /// "application/" before it; media types are case-insensitive.
    public static func isCompressed(contentType: String?) -> Bool {
        guard let type = contentType?.lowercased() else { return false }
        return (type.contains("/") ? type : "application/" + type) == zstdContentType
    }

    /// The report's JSON in a verified token; a compressed one may not inflate past `limit`
    /// bytes (a small frame can claim gigabytes).
    public static func json(of verified: JWS.Verified, limit: Int) throws(Unreadable) -> [UInt8] {
        guard let type = verified.contentType else { return verified.payload }
        guard isCompressed(contentType: type) else {
            throw Unreadable(
                message: Localized(ja: "不明なペイロード種別です (cty) \(type)", en: "unknown payload type (cty) \(type)"))
        }
        switch Zstd.inflate(verified.payload, limit: limit) {
        case .success(let json): return json
        case .failure(.tooLarge):
            throw Unreadable(
                message: Localized(
                    ja: "圧縮された報告は展開すると \(limit) バイトを超えます",
                    en: "the compressed report inflates beyond \(limit) bytes"), tooLarge: true)
        case .failure(.damaged):
            throw Unreadable(
                message: Localized(
                    ja: "圧縮された報告が正しい zstd フレームではありません",
                    en: "the compressed report is not a valid zstd frame"))
        }
    }
}
