import CSodium
import Crypto
import Synchronization

/// The encodings an Ed25519 verifier must refuse beyond what the signature equation checks
/// (RFC 8032 §5.1.7, and the small-order rule of libsodium and "Taming the many EdDSAs"):
/// a point whose y is not below p, a public key or an R that is a point of small order, and
/// an S not below the group order L. With a small-order key (the all-zero key among them),
/// R = identity and S = 0 satisfy the equation for every message: a report "signed" so proves
/// nothing, so such a key is refused at enrollment, at ingest and by `tenken verify`. A public
/// key must moreover be a point of the curve in its prime-order subgroup: BoringSSL imports any
/// 32 bytes, so a key off the curve (y = 2) would be enrolled and then verify nothing, and a
/// key with a small-order component verifies some forged signatures, one message in eight.
public enum StrictEd25519 {
    /// Why `raw` is not acceptable as a public key; nil when it is.
    public static func publicKeyProblem(_ raw: [UInt8]) -> String? {
        guard raw.count == 32 else { return "an Ed25519 public key is 32 bytes, not \(raw.count)" }
        if let problem = pointProblem(raw[...], "the public key") { return problem }
        if accepted.withLock({ $0.contains(raw) }) { return nil }
        // libsodium: canonical, on the curve, not of small order, and [L]A is the identity.
        guard crypto_core_ed25519_is_valid_point(raw) == 1 else {
            return "the public key is not a point of the curve's prime-order subgroup"
        }
        accepted.withLock { accepted in
            if accepted.count >= acceptedKept { accepted.removeAll(keepingCapacity: true) }
            accepted.insert(raw)
        }
        return nil
    }

    /// Keys found in the subgroup already: the check is a scalar multiplication (66 µs here, a
    /// fifth of what ingest spends on a report), and a collector sees the same keys on every
    /// report. Only keys that passed are kept, at most `acceptedKept`.
    private static let accepted = Mutex<Set<[UInt8]>>([])
    static let acceptedKept = 65_536

    /// The key, when `raw` is an acceptable one.
    public static func publicKey(_ raw: [UInt8]) throws(Refused) -> Curve25519.Signing.PublicKey {
        if let problem = publicKeyProblem(raw) { throw Refused(reason: problem) }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw Refused(reason: "not an Ed25519 public key")
        }
        return key
    }

    /// Why a 64-byte signature (R ‖ S) is not acceptable; nil when it is.
    public static func signatureProblem(_ signature: [UInt8]) -> String? {
        guard signature.count == 64 else { return "an Ed25519 signature is 64 bytes, not \(signature.count)" }
        if let problem = pointProblem(signature[..<32], "the signature's R") { return problem }
        // S little-endian, compared with L from its most significant byte down.
        for index in stride(from: 31, through: 0, by: -1) {
            let s = signature[32 + index]
            if s < order[index] { return nil }
            if s > order[index] { break }
        }
        return "the signature's S is not below the group order (not canonical)"
    }

    /// A key or signature refused, with which rule it broke.
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    private static func pointProblem(_ encoded: ArraySlice<UInt8>, _ what: String) -> String? {
        var y = Array(encoded)
        y[31] &= 0x7F
        // y ≥ p = 2^255 − 19: the top 31 bytes of p are ff…ff 7f, its lowest ed.
        if y[31] == 0x7F && y[1..<31].allSatisfy({ $0 == 0xFF }) && y[0] >= 0xED {
            return "\(what) is not a canonical encoding (y is not below 2^255 − 19)"
        }
        // Every point of order 1, 2, 4 or 8 has one of these y (x is fixed by y up to its sign).
        if smallOrderY.contains(y) { return "\(what) is a point of small order" }
        return nil
    }

    /// y of the identity (1), of (0, −1) (p − 1), of the points of order 4 (0), and of the two
    /// pairs of order 8, as 32 little-endian bytes.
    private static let smallOrderY: Set<[UInt8]> = [
        [1] + [UInt8](repeating: 0, count: 31),
        [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],
        [UInt8](repeating: 0, count: 32),
        ByteText.bytes(hex: "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")!,
        ByteText.bytes(hex: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")!,
    ]

    /// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    private static let order = ByteText.bytes(hex: "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")!
}
