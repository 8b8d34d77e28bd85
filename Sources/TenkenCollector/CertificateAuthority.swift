import Crypto
import FoundationEssentials
import SwiftASN1
import TenkenCore
import X509

/// `tenken-collector init`: a private CA and a server certificate it signs, so agents can pin
/// the CA (`tenken enroll --ca ca.pem`) without any public PKI. Keys are P-256, written 0600.
public enum CertificateAuthority {
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
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(validDays) * 86_400 * 4),
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
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(validDays) * 86_400),
            issuer: caName, subject: try DistinguishedName { CommonName(hosts.first ?? "tenken-collector") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey))

        try AtomicFile.write(Array(try ca.serializeAsPEM().pemString.utf8) + [0x0A], to: files.caCertificate, mode: 0o644)
        try AtomicFile.write(Array(try Certificate.PrivateKey(caKey).serializeAsPEM().pemString.utf8) + [0x0A], to: files.caKey, mode: 0o600)
        try AtomicFile.write(Array(try server.serializeAsPEM().pemString.utf8) + [0x0A], to: files.serverCertificate, mode: 0o644)
        try AtomicFile.write(Array(try Certificate.PrivateKey(serverKey).serializeAsPEM().pemString.utf8) + [0x0A], to: files.serverKey, mode: 0o600)
    }

    private static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".").compactMap { UInt8($0) }
        return parts.count == 4 && text.split(separator: ".").count == 4 ? parts : nil
    }
}
