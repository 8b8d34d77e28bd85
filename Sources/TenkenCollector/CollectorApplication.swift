import Crypto
import FoundationEssentials
import Hummingbird
import HummingbirdTLS
import NIOCore
import NIOSSL
import TenkenCore

/// The collector's HTTPS endpoints: /healthz, POST /api/v1/enroll (a one-time token binds a
/// machine's public key), POST /api/v1/reports (a signed report from an enrolled key, newer
/// than the last one; acknowledged by report id, so a retry never stores twice).
public enum CollectorApplication {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var certificate: String
        public var privateKey: String
        public var maximumBodySize = 1 << 20
        /// Reports dated further ahead of the collector's clock are refused; old ones (spooled
        /// while offline) are fine.
        public var maximumClockAhead = 300

        public init(host: String, port: Int, certificate: String, privateKey: String) {
            self.host = host
            self.port = port
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// TLS 1.2 or newer, with the certificate chain and key from `tenken-collector init`.
    public static func tls(certificate: String, privateKey: String) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        return tls
    }

    public static func make(store: any ReportStore, configuration: Configuration,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(
            router: router(store: store, configuration: configuration),
            server: try .tls(.http1(), tlsConfiguration: tls(certificate: configuration.certificate, privateKey: configuration.privateKey)),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: "tenken-collector"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
    }

    static func router(store: any ReportStore, configuration: Configuration) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in "ok\n" }
        router.post("api/v1/enroll") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 10)
            guard let enrollment = try? JSONDecoder().decode(Enrollment.self, from: Data(buffer: body)),
                  let raw = Base64URL.decode(enrollment.publicKey),
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                throw HTTPError(.badRequest, message: "expected {token, publicKey (base64url Ed25519), machineId, hostname}")
            }
            let keyID = MachineKey.thumbprint(key)
            guard try await store.enroll(tokenHash: tokenHash(enrollment.token), keyID: keyID, publicKey: enrollment.publicKey,
                                         machineID: enrollment.machineId, hostname: enrollment.hostname, now: Timestamp.seconds())
            else {
                throw HTTPError(.forbidden, message: "unknown or already used enrollment token")
            }
            return json(.created, #"{"keyId":"\#(keyID)"}"#)
        }
        router.post("api/v1/reports") { request, _ -> Response in
            let body = try await request.body.collect(upTo: configuration.maximumBodySize)
            let token = String(buffer: body)
            let verified: JWS.Verified
            do { verified = try JWS.verify(token) } catch let error as JWS.Invalid {
                throw HTTPError(.badRequest, message: "invalid signature: \(error.reason)")
            }
            guard let machine = try await store.machine(keyID: verified.keyID),
                  Base64URL.decode(machine.publicKey) == Array(verified.publicKey.rawRepresentation) else {
                throw HTTPError(.forbidden, message: "the signing key is not enrolled")
            }
            guard let report = try? JSONDecoder().decode(CheckReport.self, from: Data(verified.payload)),
                  let sequence = report.sequence else {
                throw HTTPError(.badRequest, message: "the payload is not a sequenced tenken report")
            }
            let now = Timestamp.seconds()
            guard let started = Timestamp.parse(report.startedAt), started <= now + configuration.maximumClockAhead else {
                throw HTTPError(.badRequest, message: "the report is dated in the future (check the machine's clock)")
            }
            let outcome = try await store.store(StoredReport(reportID: report.reportID, keyID: verified.keyID, sequence: sequence,
                                                             receivedAt: now, verdict: report.verdict.rawValue,
                                                             token: String(token.reversed().drop { $0.isWhitespace }.reversed())))
            switch outcome {
            case .stored: return json(.created, #"{"ack":"\#(report.reportID)"}"#)
            case .duplicate: return json(.ok, #"{"ack":"\#(report.reportID)","duplicate":true}"#)
            case .replayed: throw HTTPError(.conflict, message: "sequence \(sequence) is not above the last one stored (replay)")
            }
        }
        return router
    }

    struct Enrollment: Decodable {
        let token: String
        let publicKey: String
        let machineId: String
        let hostname: String
    }

    /// Tokens are stored hashed: the database never holds a usable one.
    public static func tokenHash(_ token: String) -> String {
        ByteText.hex(SHA256.hash(data: Array(token.utf8)))
    }

    /// A new random enrollment token (256 bits, base64url).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
