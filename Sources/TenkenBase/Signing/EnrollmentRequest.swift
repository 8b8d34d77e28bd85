import Crypto
import FoundationEssentials

/// A machine's enrollment (`tenken enroll`, POST /api/v1/enroll): a JWS signed by the key it
/// enrolls, whose payload holds the one-time token, the machine's identity and the time. The
/// signature proves the machine holds the key and binds it to this token and this moment: a
/// public key and machine-id copied from someone else's report cannot be enrolled with a spare
/// token (which would rename that machine, or change its policy), and a request is good for
/// `skew` seconds only.
public enum EnrollmentRequest {
    /// The payload's `type`: never taken for a report or a key rotation, nor they for it.
    public static let type = "tenken-enrollment"

    /// What the request says, once its signature and time checked out.
    public struct Payload: Codable, Sendable, Equatable {
        public let type: String
        public let token: String
        public let machineId: String
        public let hostname: String
        public let dmiSerial: String?
        public let issuedAt: String

        public init(token: String, machineId: String, hostname: String, dmiSerial: String?, issuedAt: String) {
            self.type = EnrollmentRequest.type
            self.token = token
            self.machineId = machineId
            self.hostname = hostname
            self.dmiSerial = dmiSerial
            self.issuedAt = issuedAt
        }
    }

    public static func sign(_ payload: Payload, with key: MachineKey) throws -> String {
        try JWS.sign(json: payload, with: key)
    }

    /// A verified request: what it says and the key that signed it (the key it enrolls).
    public struct Verified: Sendable {
        public let payload: Payload
        public let publicKey: Curve25519.Signing.PublicKey
        public let keyID: String
    }

    /// Checks the signature strictly (a key off the curve or outside its prime-order subgroup is
    /// refused by `StrictEd25519`), the payload's type and fields, and that it was made within
    /// `skew` seconds of `now`.
    public static func verify(_ token: ArraySlice<UInt8>, now: Int, skew: Int) throws(JWS.Invalid) -> Verified {
        let verified = try JWS.verify(bytes: token)
        guard verified.contentType == nil,
            let payload = try? JSONDecoder().decode(Payload.self, from: Data(verified.payload)),
            payload.type == type
        else { throw JWS.Invalid(reason: "the payload is not an enrollment request") }
        guard let issued = Timestamp.parse(payload.issuedAt), abs(issued - now) <= skew else {
            throw JWS.Invalid(reason: "issuedAt is not within \(skew) s of the collector's clock")
        }
        return Verified(payload: payload, publicKey: verified.publicKey, keyID: verified.keyID)
    }
}
