import AsyncHTTPClient
import FoundationEssentials
import NIOCore
import NIOSSL
import TenkenBase
import TenkenScan

/// HTTPS to the collector: TLS 1.2 or newer, the server certificate checked against the
/// collector's CA (or the system's roots when none was given), no redirects.
public final class CollectorClient: Sendable {
    public let baseURL: String
    private let client: HTTPClient

    /// Why the client cannot be set up or a request failed (bad address, unreadable CA, no connection),
    /// in both languages for the log.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let text: Localized
        public var message: String { text.en }
        public var description: String { text.en }
        /// The collector's answer, when it refused (nil: it was not reached).
        public var status: Int?

        init(ja: String, en: String, status: Int? = nil) {
            text = Localized(ja: ja, en: en)
            self.status = status
        }
    }

    /// What the collector said about one report.
    public enum Outcome: Sendable, Equatable {
        /// Stored now, or stored before (a retry): either way the spool may forget it.
        case acknowledged(duplicate: Bool)
        /// Can never be stored (a replayed sequence, a damaged signature, too large): set aside.
        case refused(status: Int, message: String)
        /// Try again later: the collector is unreachable, busy, or does not know the key yet;
        /// `after`: not before then (its Retry-After, with 429 and 503).
        case retry(String, after: Duration? = nil)
        /// The report is dated ahead of the collector's clock (422).
        case datedAhead(String)
    }

    /// `connections`: how many requests may be in flight at once (the agent sends one at a
    /// time, in order; the benchmark plays a fleet).
    /// `caPEM`, the pinned CA as read (from the checked state directory), is named `caFile` in errors.
    public init(baseURL: String, caFile: String?, caPEM: [UInt8]? = nil, connections: Int = 1) throws(Failure) {
        guard baseURL.hasPrefix("https://"), baseURL.count > 8 else {
            throw Failure(
                ja: "\(baseURL): 収集サーバーのアドレスは https:// で始めてください",
                en: "\(baseURL): the collector's address must start with https://")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile {
            do {
                let roots =
                    try caPEM.map { try NIOSSLCertificate.fromPEMBytes($0) } ?? NIOSSLCertificate.fromPEMFile(caFile)
                tls.trustRoots = .certificates(roots)
            } catch {
                throw Failure(
                    ja: "\(caFile): PEM 形式の証明書ではありません (\(error))", en: "\(caFile): not a PEM certificate (\(error))")
            }
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(60)))
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        // A failed connection fails the attempt at once; the sender's backoff decides when to retry.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.baseURL = String(baseURL.trimmingSuffix("/"))
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// What the collector recorded at enrollment: the key's id, and the last sequence number it
    /// stored for the machine (above 0 when a token issued for an enrolled machine gave it this key).
    public struct Enrolled: Sendable, Decodable {
        public let keyId: String
        public let lastSequence: Int?
    }

    /// Binds this machine's public key with a one-time token, in a request signed by that key.
    public func enroll(token: String, key: MachineKey, identity: HostIdentity) async throws(Failure) -> Enrolled {
        let request: String
        do {
            request = try EnrollmentRequest.sign(
                EnrollmentRequest.Payload(
                    token: token, machineId: identity.machineID, hostname: identity.hostname,
                    dmiSerial: identity.dmiSerial, issuedAt: Timestamp.format(seconds: Timestamp.seconds())),
                with: key)
        } catch {
            throw Failure(ja: "登録要求に署名できません: \(error)", en: "cannot sign the enrollment request: \(error)")
        }
        let (status, reply, _) = try await post(
            "/api/v1/enroll", type: "application/jose", body: Array(request.utf8))
        guard status == 201, let decoded = try? JSONDecoder().decode(Enrolled.self, from: Data(reply)) else {
            throw Failure(
                ja: "登録を拒否されました (HTTP \(status)): \(Self.message(in: reply))",
                en: "enrollment refused (HTTP \(status)): \(Self.message(in: reply))")
        }
        return decoded
    }

    /// Sends a key rotation request (`KeyRotation`, signed with the current key); returns the new key's id.
    public func rotate(_ request: String) async throws(Failure) -> String {
        struct Reply: Decodable { let keyId: String }
        let (status, reply, _) = try await post(
            "/api/v1/rotate", type: "application/jose", body: Array(request.utf8))
        guard status == 200, let decoded = try? JSONDecoder().decode(Reply.self, from: Data(reply)) else {
            throw Failure(
                ja: "鍵の更新を拒否されました (HTTP \(status)): \(Self.message(in: reply))",
                en: "key rotation refused (HTTP \(status)): \(Self.message(in: reply))", status: status)
        }
        return decoded.keyId
    }

    public func submit(_ token: String, reportID: String) async -> Outcome {
        let status: Int
        let reply: [UInt8]
        let retryAfter: Duration?
        do {
            (status, reply, retryAfter) = try await post(
                "/api/v1/reports", type: "application/jose", body: Array(token.utf8))
        } catch {
            return .retry(error.message)
        }
        switch status {
        case 200, 201:
            // The acknowledgement must name this report, or it acknowledges nothing.
            guard String(decoding: reply, as: UTF8.self).contains("\"ack\":\"\(reportID)\"") else {
                return .retry("HTTP \(status) without an acknowledgement of \(reportID)")
            }
            return .acknowledged(duplicate: status == 200)
        case 400, 409, 413:
            return .refused(status: status, message: Self.message(in: reply))
        case 422:
            return .datedAhead(Self.message(in: reply))
        default:
            // 403 (key not enrolled yet), 429, 5xx: may pass later; 429 and 503 say when.
            return .retry("HTTP \(status): \(Self.message(in: reply))", after: retryAfter)
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// The status, the body, and Retry-After in seconds when given (at most a day: a collector
    /// cannot make the agent stop sending for longer).
    private func post(_ path: String, type: String, body: [UInt8]) async throws(Failure) -> (Int, [UInt8], Duration?) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: type)
        request.headers.add(name: "User-Agent", value: "tenken/\(TenkenVersion.current)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let reply = try await response.body.collect(upTo: 64 << 10)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }.map {
                Duration.seconds(min(max($0, 0), 86_400))
            }
            return (Int(response.status.code), Array(buffer: reply), retryAfter)
        } catch {
            throw Self.failure(error, baseURL: baseURL)
        }
    }

    /// What went wrong on the way, in words an administrator can act on; the library's own
    /// description follows for the details.
    static func failure(_ error: any Error, baseURL: String) -> Failure {
        let detail = "\(error)"
        if error is NIOSSLError || detail.contains("CERTIFICATE_VERIFY_FAILED") {
            return Failure(
                ja: "\(baseURL): TLS 接続を確立できません。サーバー証明書が --ca の CA で署名されていないか、別の名前向けです (\(detail))",
                en: "\(baseURL): TLS handshake failed: the server certificate is not signed by the CA given with --ca, "
                    + "or is for another name (\(detail))"
            )
        }
        if let client = error as? HTTPClientError, client == .connectTimeout || client == .deadlineExceeded {
            return Failure(ja: "\(baseURL): 応答がありません (タイムアウト)", en: "\(baseURL): no answer (timed out)")
        }
        if detail.contains("Connection refused") {
            return Failure(
                ja: "\(baseURL): 接続を拒否されました (収集サーバーが停止中?)",
                en: "\(baseURL): connection refused (is the collector running?)")
        }
        return Failure(ja: "\(baseURL): 通信できません (\(detail))", en: "\(baseURL): cannot connect (\(detail))")
    }

    /// Hummingbird's error body is {"error":{"message":"..."}}; anything else is shown as text.
    static func message(in reply: [UInt8]) -> String {
        struct ErrorBody: Decodable {
            struct Inner: Decodable { let message: String }
            let error: Inner
        }
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(reply)) { return decoded.error.message }
        return String(decoding: reply.prefix(200), as: UTF8.self)
    }
}
