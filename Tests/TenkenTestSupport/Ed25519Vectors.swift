import CSodium
import TenkenBase

/// Ed25519 encodings a strict verifier refuses, and the forgery they allow, shared by the
/// signing tests and the collector's.
public enum Ed25519Vectors {
    /// Every encoding of a point of order 1, 2, 4 or 8, canonical or not, with either sign bit.
    public static let smallOrderPoints: [[UInt8]] = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        // y = p and y = p + 1: 0 and 1 again, encoded non-canonically.
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ].flatMap { hex in
        let bytes = hexBytes(hex)
        return [bytes, Array(bytes.dropLast()) + [bytes[31] | 0x80]]
    }

    public static func hexBytes(_ hex: String) -> [UInt8] { ByteText.bytes(hex: hex)! }

    /// p + q on the curve (libsodium), for a key with a small-order component.
    public static func adding(_ p: [UInt8], _ q: [UInt8]) -> [UInt8] {
        var sum = [UInt8](repeating: 0, count: 32)
        precondition(crypto_core_ed25519_add(&sum, p, q) == 0)
        return sum
    }

    /// A token "signed" by a small-order key with R = the identity and S = 0, which the signature
    /// equation accepts for any message.
    public static func forgedToken(key: [UInt8], r: [UInt8], payload: String = #"{"verdict":"compliant"}"#) -> String {
        let jwk = #"{"crv":"Ed25519","kty":"OKP","x":"\#(Base64URL.encode(key))"}"#
        let header = #"{"alg":"EdDSA","jwk":\#(jwk),"typ":"tenken-report+jws"}"#
        return Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
            + Base64URL.encode(r + [UInt8](repeating: 0, count: 32))
    }
}
