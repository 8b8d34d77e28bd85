import Crypto
import FoundationEssentials

/// A machine's request for a new key (`tenken rotate-key`, POST /api/v1/rotate): a JWS signed by
/// its current key, whose payload names the new key and carries the new key's signature of
/// both key ids and the time (proof that the machine holds the new key, bound to this request).
public enum KeyRotation {
    /// The payload's `type`: a signed report is never taken for a rotation, nor the other way round.
    public static let type = "tenken-key-rotation"

    struct Payload: Codable {
        let type: String
        let newPublicKey: String
        let issuedAt: String
        let proof: String
    }

    /// What the new key signs: both key ids and the time, so the proof serves this request only.
    static func proofMessage(current: String, next: String, issuedAt: String) -> [UInt8] {
        Array("\(type)\n\(current)\n\(next)\n\(issuedAt)".utf8)
    }

    public static func request(current: MachineKey, next: MachineKey, issuedAt: Int) throws -> String {
        let time = Timestamp.format(seconds: issuedAt)
        let message = proofMessage(
            current: MachineKey.thumbprint(current.publicKey), next: MachineKey.thumbprint(next.publicKey),
            issuedAt: time)
        let payload = Payload(
            type: type, newPublicKey: Base64URL.encode(next.publicKey.rawRepresentation), issuedAt: time,
            proof: Base64URL.encode(try next.privateKey.signature(for: message)))
        return try JWS.sign(json: payload, with: current)
    }

    /// A verified request: the key that signed it and the key it asks for.
    public struct Verified: Sendable {
        public let currentKeyID: String
        public let newKey: Curve25519.Signing.PublicKey
        public var newKeyID: String { MachineKey.thumbprint(newKey) }
    }

    /// Checks the signature (strictly, as reports are), the payload, the new key (no small-order
    /// or non-canonical key), its proof, and that the request was made within `skew` seconds of `now`.
    public static func verify(_ token: ArraySlice<UInt8>, now: Int, skew: Int) throws(JWS.Invalid) -> Verified {
        let verified = try JWS.verify(bytes: token)
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(verified.payload)),
            payload.type == type
        else { throw JWS.Invalid(reason: "the payload is not a key rotation request") }
        guard let raw = Base64URL.decode(payload.newPublicKey) else {
            throw JWS.Invalid(reason: "newPublicKey is not base64url")
        }
        if let problem = StrictEd25519.publicKeyProblem(raw) {
            throw JWS.Invalid(reason: "newPublicKey refused: \(problem)")
        }
        guard let newKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw JWS.Invalid(reason: "newPublicKey is not an Ed25519 public key")
        }
        guard let issued = Timestamp.parse(payload.issuedAt), abs(issued - now) <= skew else {
            throw JWS.Invalid(reason: "issuedAt is not within \(skew) s of the collector's clock")
        }
        let message = proofMessage(
            current: verified.keyID, next: MachineKey.thumbprint(newKey), issuedAt: payload.issuedAt)
        guard let proof = Base64URL.decode(payload.proof), StrictEd25519.signatureProblem(proof) == nil,
            newKey.isValidSignature(proof, for: message)
        else { throw JWS.Invalid(reason: "the new key's proof does not verify") }
        guard verified.keyID != MachineKey.thumbprint(newKey) else {
            throw JWS.Invalid(reason: "the new key is the current one")
        }
        return Verified(currentKeyID: verified.keyID, newKey: newKey)
    }
}
