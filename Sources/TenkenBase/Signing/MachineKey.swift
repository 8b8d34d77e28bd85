import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// The machine's Ed25519 signing key: created on first use, kept 0600 under the state
/// directory (/var/lib/tenken), never printed or logged.
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
    }

    /// Loads the key, creating it when the file does not exist. A key file others may read is
    /// refused rather than used: it would let them sign reports as this machine.
    public static func loadOrCreate(stateDirectory: String = defaultStateDirectory) throws(Failure) -> MachineKey {
        let path = stateDirectory + "/" + fileName
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw Failure(message: "\(path): not a regular file") }
            guard info.st_mode & 0o077 == 0 else {
                throw Failure(
                    message:
                        "\(path): readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
            }
            let bytes: [UInt8]
            do { bytes = try LocalFile.read(atPath: path, limit: 64, followLinks: false) } catch {
                throw Failure(message: error.message(in: .en))
            }
            guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else {
                throw Failure(message: "\(path): not a 32-byte Ed25519 private key")
            }
            return MachineKey(privateKey: key)
        }
        let key = Curve25519.Signing.PrivateKey()
        do {
            try AtomicFile.write(Array(key.rawRepresentation), to: path, mode: 0o600)
        } catch {
            throw Failure(message: "cannot store the machine key: " + error.message(in: .en))
        }
        return MachineKey(privateKey: key)
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
