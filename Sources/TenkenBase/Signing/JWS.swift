import Crypto
import FoundationEssentials

/// JWS compact serialization (RFC 7515) with EdDSA over Ed25519 (RFC 8037). The protected
/// header carries the public key (`jwk`) and its RFC 7638 thumbprint (`kid`), so any JOSE
/// library can verify a report, and a collector can pin the key it enrolled.
public enum JWS {
    public static let type = "tenken-report+jws"

    /// `contentType` ("cty", RFC 7515 §4.1.10): the payload's media type when it is not the
    /// report's JSON itself (see `ReportPayload`); a constant, never quoted or escaped.
    public static func sign(_ payload: [UInt8], with key: MachineKey, contentType: String? = nil) throws -> String {
        precondition(contentType?.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C } ?? true)
        let cty = contentType.map { #""cty":"\#($0)","# } ?? ""
        let header =
            #"{"alg":"EdDSA",\#(cty)"jwk":"#
            + #"\#(key.jwk),"kid":"\#(MachineKey.thumbprint(key.publicKey))","typ":"\#(type)"}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(payload)
        let signature = try key.privateKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// `value` as JSON (keys sorted, slashes as they are), signed: a request's payload.
    public static func sign(json value: some Encodable, with key: MachineKey) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try sign(Array(try encoder.encode(value)), with: key)
    }

    /// A token whose signature checked out: its payload, the signing key and its id, and the raw segments.
    public struct Verified: Sendable {
        public let payload: [UInt8]
        /// The header's "cty": nil when the payload is the report's JSON.
        public let contentType: String?
        /// The first and last segments as they came (base64url), so the token can be kept
        /// apart from its payload and put together again exactly.
        public let protectedHeader: String
        public let signature: String
        public let keyID: String
        public let publicKey: Curve25519.Signing.PublicKey
    }

    /// Why a token was not accepted: not a compact JWS, an unaccepted header, another key, or a bad signature.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Checks the signature with the key in the header, or with `expected` when given (then the
    /// header's key must be that key).
    /// Works on the token's bytes: reports are tens of kilobytes, and walking them as
    /// Characters (grapheme clusters) cost the collector most of its time.
    public static func verify(_ token: String, expected: Curve25519.Signing.PublicKey? = nil) throws(Invalid)
        -> Verified
    {
        try verify(bytes: Array(token.utf8)[...], expected: expected)
    }

    public static func verify(bytes token: ArraySlice<UInt8>, expected: Curve25519.Signing.PublicKey? = nil)
        throws(Invalid) -> Verified
    {
        let bytes = ByteText.trimmingASCIIWhitespace(token)
        guard let firstDot = ByteText.firstIndex(of: 0x2E, in: bytes),
            let lastDot = ByteText.firstIndex(of: 0x2E, in: bytes[(firstDot + 1)...]),
            ByteText.firstIndex(of: 0x2E, in: bytes[(lastDot + 1)...]) == nil
        else {
            throw Invalid(reason: "not a JWS in compact serialization")
        }
        let parts = [bytes[..<firstDot], bytes[(firstDot + 1)..<lastDot], bytes[(lastDot + 1)...]]
        guard let headerBytes = Base64URL.decode(bytes: parts[0]), let payload = Base64URL.decode(bytes: parts[1]),
            let signature = Base64URL.decode(bytes: parts[2])
        else {
            throw Invalid(reason: "not a JWS in compact serialization")
        }
        let header: Header
        do { header = try Header(json: headerBytes) } catch let refused as Invalid { throw refused } catch {
            throw Invalid(reason: "the protected header is not valid JSON")
        }
        guard let algorithm = header.algorithm else { throw Invalid(reason: "the protected header names no algorithm") }
        guard algorithm == "EdDSA" else { throw Invalid(reason: "algorithm \(algorithm) is not accepted (EdDSA only)") }
        guard !header.critical else { throw Invalid(reason: "unsupported critical header parameters") }
        if let type = header.type, type != Self.type {
            throw Invalid(reason: "header type \(type) is not accepted (\(Self.type) only)")
        }
        var key = expected
        if let expected, let problem = StrictEd25519.publicKeyProblem(Array(expected.rawRepresentation)) {
            throw Invalid(reason: "the expected key is refused: \(problem)")
        }
        if let jwk = header.jwk {
            guard jwk["kty"] == "OKP", jwk["crv"] == "Ed25519", let x = jwk["x"], let raw = Base64URL.decode(x) else {
                throw Invalid(reason: "the header's key is not an Ed25519 JWK")
            }
            let embedded: Curve25519.Signing.PublicKey
            do { embedded = try StrictEd25519.publicKey(raw) } catch {
                throw Invalid(reason: "the header's key is refused: \(error.reason)")
            }
            if let expected, expected.rawRepresentation != embedded.rawRepresentation {
                throw Invalid(reason: "signed by another key than the expected one")
            }
            key = key ?? embedded
        }
        guard let key else { throw Invalid(reason: "no key to verify with") }
        if let keyID = header.keyID, keyID != MachineKey.thumbprint(key) {
            throw Invalid(reason: "the header's kid is not the key's thumbprint")
        }
        if let problem = StrictEd25519.signatureProblem(signature) { throw Invalid(reason: problem) }
        let signingInput = bytes[parts[0].startIndex..<parts[1].endIndex]
        guard key.isValidSignature(signature, for: signingInput) else {
            throw Invalid(reason: "the signature does not match")
        }
        return Verified(
            payload: payload, contentType: header.contentType,
            protectedHeader: String(decoding: parts[0], as: UTF8.self),
            signature: String(decoding: parts[2], as: UTF8.self), keyID: MachineKey.thumbprint(key), publicKey: key)
    }

    /// The "cty" of a protected header as it came (base64url); nil also when it cannot be read.
    public static func contentType(ofProtectedHeader header: String) -> String? {
        Base64URL.decode(header).flatMap { try? Header(json: $0).contentType }
    }

    /// The protected header, whose parameters are all ones tenken writes: any other (`b64`,
    /// which changes what is signed, `x5u`, `jku`, a private member in the key) is refused, as
    /// is a parameter given twice (RFC 7515 §4 allows refusing it, and two readers could differ).
    private struct Header {
        var algorithm: String?
        var contentType: String?
        var type: String?
        var keyID: String?
        /// The public JWK's members (kty, crv, x).
        var jwk: [String: String]?
        var critical = false

        init(json: [UInt8]) throws {
            var reader = JSONReader(json)
            var seen: Set<String> = []
            var header = Header(empty: ())
            try reader.object { reader, key in
                guard seen.insert(key).inserted else { throw Invalid(reason: "header parameter \(key) given twice") }
                switch key {
                case "alg": header.algorithm = try reader.string()
                case "cty": header.contentType = try reader.string()
                case "typ": header.type = try reader.string()
                case "kid": header.keyID = try reader.string()
                case "crit":
                    header.critical = true
                    try reader.skipValue()
                case "jwk":
                    var members: [String: String] = [:]
                    try reader.object { reader, name in
                        guard ["kty", "crv", "x"].contains(name) else {
                            throw Invalid(reason: "jwk member \(name) is not accepted")
                        }
                        guard members[name] == nil else { throw Invalid(reason: "jwk.\(name) given twice") }
                        members[name] = try reader.string()
                    }
                    header.jwk = members
                default: throw Invalid(reason: "header parameter \(key) is not supported")
                }
            }
            try reader.end()
            self = header
        }

        private init(empty: Void) {}
    }
}
