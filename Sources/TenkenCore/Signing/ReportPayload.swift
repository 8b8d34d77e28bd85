/// What a signed report's payload holds: the report's JSON (`tenken check --sign`, readable with
/// any JOSE tool), or that JSON in a zstd frame, declared by the protected header's "cty" as
/// application/zstd (RFC 8878), which is how agents send reports. Compressed before signing, a
/// report costs the network, the collector's hashing and its store about a fifth, and the
/// collector inflates only what a verified, enrolled key signed.
public enum ReportPayload {
    public static let zstdContentType = "application/zstd"

    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The report's JSON compressed and signed (agents' delivery format).
    public static func signCompressed(_ json: [UInt8], with key: MachineKey) throws -> String {
        guard let frame = Zstd.compress(json, level: 3) else { throw Unreadable(description: "zstd could not compress the report") }
        return try JWS.sign(frame, with: key, contentType: zstdContentType)
    }

    /// The report's JSON in a verified token; a compressed one may not inflate past `limit`
    /// bytes (a small frame can claim gigabytes).
    public static func json(of verified: JWS.Verified, limit: Int) throws(Unreadable) -> [UInt8] {
        switch verified.contentType {
        case nil: return verified.payload
        case zstdContentType?:
            switch Zstd.inflate(verified.payload, limit: limit) {
            case .success(let json): return json
            case .failure(.tooLarge): throw Unreadable(description: "the compressed report inflates beyond \(limit) bytes")
            case .failure(.damaged): throw Unreadable(description: "the compressed report is not a valid zstd frame")
            }
        case let other?: throw Unreadable(description: "unknown payload type (cty) \(other)")
        }
    }
}
