import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// The machine's Ed25519 signing key: created on first use, kept 0600 under the state
/// directory (/var/lib/tenken, see the scanning module's `StateDirectory`), never printed or logged.
public struct MachineKey: Sendable {
    public static let defaultStateDirectory = "/var/lib/tenken"
    public static let fileName = "machine-ed25519.key"

    public let privateKey: Curve25519.Signing.PrivateKey

    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    public init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
    }

    /// Why the machine key could not be loaded or created; the message names the file and what to fix.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }

        public init(message: String) { self.message = message }
    }

    /// The public key as a JWK (RFC 8037).
    public var jwk: String { Self.jwk(publicKey) }

    public static func jwk(_ key: Curve25519.Signing.PublicKey) -> String {
        #"{"crv":"Ed25519","kty":"OKP","x":"\#(Base64URL.encode(key.rawRepresentation))"}"#
    }

    /// RFC 7638 thumbprint: SHA-256 of the JWK's required members in lexical order.
    public static func thumbprint(_ key: Curve25519.Signing.PublicKey) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Array(jwk(key).utf8))))
    }
}
