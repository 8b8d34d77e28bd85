import Crypto
import FoundationEssentials
import SwiftASN1
import TenkenBase
import X509

/// `tenken-collector init`: a private CA and a server certificate it signs, so agents can pin
/// the CA (`tenken enroll --ca ca.pem`) without any public PKI. Keys are P-256, written 0600.
public enum CertificateAuthority {
    /// Where the CA and server certificates and keys live in the collector's directory.
    public struct Files: Sendable {
        public let directory: String
        public var caCertificate: String { directory + "/ca.pem" }
        public var caKey: String { directory + "/ca-key.pem" }
        public var serverCertificate: String { directory + "/server.pem" }
        public var serverKey: String { directory + "/server-key.pem" }

        public init(directory: String) { self.directory = directory }
    }

    /// Creates the CA and a server certificate for `hosts` (DNS names or IP addresses).
    public static func create(in files: Files, hosts: [String], validDays: Int = 825) throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("tenken")
            CommonName("tenken collector CA")
        }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(Double(validDays) * 86_400 * 4),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))

        let serverKey = P256.Signing.PrivateKey()
        let names: [GeneralName] = hosts.map { host in
            if let address = ipv4(host) { return .ipAddress(ASN1OctetString(contentBytes: address[...])) }
            return .dnsName(host)
        }
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(Double(validDays) * 86_400),
            issuer: caName, subject: try DistinguishedName { CommonName(hosts.first ?? "tenken-collector") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey))

        try AtomicFile.write(
            Array(try ca.serializeAsPEM().pemString.utf8) + [0x0A], to: files.caCertificate, mode: 0o644)
        try AtomicFile.write(
            Array(try Certificate.PrivateKey(caKey).serializeAsPEM().pemString.utf8) + [0x0A], to: files.caKey,
            mode: 0o600)
        try AtomicFile.write(
            Array(try server.serializeAsPEM().pemString.utf8) + [0x0A], to: files.serverCertificate, mode: 0o644)
        try AtomicFile.write(
            Array(try Certificate.PrivateKey(serverKey).serializeAsPEM().pemString.utf8) + [0x0A], to: files.serverKey,
            mode: 0o600)
    }

    /// Uses a certificate chain and key the organisation already has (`init --certificate
    /// --key [--ca]`): checked to parse and to belong together, then copied in place.
    public static func adopt(in files: Files, certificateChain: String, key: String, ca: String?) throws {
        func read(_ path: String) throws -> String {
            String(decoding: try LocalFile.read(atPath: path, limit: 1 << 20), as: UTF8.self)
        }
        let chainText = try read(certificateChain)
        let chain = try PEMDocument.parseMultiple(pemString: chainText).map { try Certificate(derEncoded: $0.derBytes) }
        guard let leaf = chain.first else { throw AdoptionError(message: "\(certificateChain): no certificate") }
        let keyText = try read(key)
        let privateKey = try Certificate.PrivateKey(pemEncoded: keyText)
        guard privateKey.publicKey == leaf.publicKey else {
            throw AdoptionError(message: "\(key) is not the key of the first certificate in \(certificateChain)")
        }
        if let ca {
            let caText = try read(ca)
            _ = try Certificate(pemEncoded: caText)
            try AtomicFile.write(Array(caText.utf8), to: files.caCertificate, mode: 0o644)
        }
        try AtomicFile.write(Array(chainText.utf8), to: files.serverCertificate, mode: 0o644)
        try AtomicFile.write(Array(keyText.utf8), to: files.serverKey, mode: 0o600)
    }

    /// Why an existing certificate chain and key were not adopted (no certificate, or a key that does not match).
    public struct AdoptionError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".").compactMap { UInt8($0) }
        return parts.count == 4 && text.split(separator: ".").count == 4 ? parts : nil
    }
}
