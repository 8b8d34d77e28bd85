import Crypto
import FoundationEssentials
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import NIOSSL
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// The collector's HTTPS endpoints.
/// Open: /healthz; POST /api/v1/enroll (a one-time token binds a machine's public key);
/// POST /api/v1/reports (a signed report, acknowledged by id, see `Ingest`).
/// Admin token (`AdminAuthentication`): / (dashboard), /api/v1/fleet, /api/v1/contracts/:id,
/// /api/v1/machines/:key/reports, /api/v1/reports/:id, /metrics.
public enum CollectorApplication {
    /// What the server listens on and with which certificate, and its limits: body size, clock skew, silence.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var certificate: String
        public var privateKey: String
        public var maximumBodySize = 1 << 20
        public var maximumClockAhead = 300
        /// Machines not heard from for this long are shown as silent.
        public var silentAfterHours = 24
        /// Connections open at once; more wait in the listen backlog. Below the unit's
        /// LimitNOFILE (65536), which also covers the database and the journal.
        public var maximumConnections = 16_384
        /// How long a client may take to send a request (`ConnectionDeadline`).
        var deadlines = ConnectionDeadline.Limits()

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
        // AEAD suites only: TLS 1.2 would otherwise also offer CBC with SHA-1 (TLS 1.3's are all AEAD).
        tls.cipherSuiteValues = [
            .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
        return tls
    }

    /// The connections this process can hold: the configured cap, within its file limit, whose
    /// soft value is raised to the hard one first. Each connection is a file, and the database,
    /// its WAL and the journal need some too; past the cap, clients wait in the listen backlog
    /// instead of meeting EMFILE.
    static func connectionCap(_ configured: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return min(configured, 768) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return max(16, min(configured, Int(clamping: limit.rlim_cur) - 256))
    }

    public static func make(
        store: any ReportStore, configuration: Configuration,
        metrics: CollectorMetrics = CollectorMetrics()
    ) throws -> some ApplicationProtocol {
        Application(
            router: router(store: store, configuration: configuration, metrics: metrics),
            server: try .tls(
                .http1(
                    configuration: .init(additionalChannelHandlers: [
                        ConnectionDeadline(limits: configuration.deadlines)
                    ])),
                tlsConfiguration: tls(certificate: configuration.certificate, privateKey: configuration.privateKey)),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "tenken-collector",
                availableConnectionsDelegate: MaximumAvailableConnections(
                    connectionCap(configuration.maximumConnections))))
    }

    static func router(store: any ReportStore, configuration: Configuration, metrics: CollectorMetrics) -> Router<
        BasicRequestContext
    > {
        let router = Router()
        router.add(middleware: SecurityHeaders(authenticated: false))
        let ingest = Ingest(
            store: store, maximumClockAhead: configuration.maximumClockAhead,
            maximumReportSize: configuration.maximumBodySize)
        let contracts = ContractIndex.embedded()
        router.get("healthz") { _, _ in "ok\n" }
        router.post("api/v1/enroll") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 10)
            guard let enrollment = try? JSONDecoder().decode(Enrollment.self, from: Data(buffer: body)),
                enrollment.isReasonable,
                let raw = Base64URL.decode(enrollment.publicKey)
            else {
                throw HTTPError(
                    .badRequest,
                    message: "expected {token, publicKey (base64url Ed25519), machineId, hostname, dmiSerial?}")
            }
            // A small-order key verifies forged signatures for any report: never enrolled.
            if let problem = StrictEd25519.publicKeyProblem(raw) {
                throw HTTPError(.badRequest, message: "publicKey refused: \(problem)")
            }
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                throw HTTPError(.badRequest, message: "publicKey is not an Ed25519 public key")
            }
            let machine = EnrolledMachine(
                keyID: MachineKey.thumbprint(key), publicKey: enrollment.publicKey, machineID: enrollment.machineId,
                hostname: enrollment.hostname, dmiSerial: enrollment.dmiSerial)
            guard
                try await store.enroll(
                    tokenHash: tokenHash(enrollment.token), machine: machine, now: Timestamp.seconds())
            else {
                throw HTTPError(.forbidden, message: "unknown or already used enrollment token")
            }
            metrics.enrolled()
            return json(.created, #"{"keyId":"\#(machine.keyID)"}"#)
        }
        router.post("api/v1/reports") { request, _ -> Response in
            let body = try await request.body.collect(upTo: configuration.maximumBodySize)
            let clock = ContinuousClock()
            let start = clock.now
            do {
                switch try await ingest.receive(Array(buffer: body), now: Timestamp.seconds()) {
                case .stored(let id):
                    metrics.received("stored", after: clock.now - start)
                    return json(.created, #"{"ack":"\#(id)"}"#)
                case .duplicate(let id):
                    metrics.received("duplicate", after: clock.now - start)
                    return json(.ok, #"{"ack":"\#(id)","duplicate":true}"#)
                }
            } catch let refusal as Ingest.Refusal {
                metrics.received(refusal.reason.rawValue, after: clock.now - start)
                throw HTTPError(.init(code: refusal.status), message: refusal.message)
            }
        }

        let admin = router.group().add(middleware: SecurityHeaders(authenticated: true))
            .add(middleware: AdminAuthentication(store: store))
        @Sendable func fleet() async throws -> FleetSummary {
            FleetSummary(
                try await store.fleet(), now: Timestamp.seconds(), silentAfterHours: configuration.silentAfterHours,
                contracts: contracts)
        }
        admin.get("/") { request, _ -> Response in
            html(DashboardPage.render(try await fleet(), language: language(of: request)))
        }
        admin.get("api/v1/fleet") { request, _ -> Response in
            let summary = try await fleet()
            if request.uri.queryParameters.get("format") == "csv" {
                return csv(FleetCSV.fleet(summary, language: language(of: request)), name: "tenken-fleet.csv")
            }
            return try encoded(summary)
        }
        admin.get("api/v1/contracts/:id") { request, context -> Response in
            let summary = try await fleet()
            guard let id = context.parameters.get("id"), let contract = summary.contracts.first(where: { $0.id == id })
            else {
                throw HTTPError(
                    .notFound,
                    message: "no such contract; known: \(contracts.contracts.map(\.id).joined(separator: ", "))")
            }
            if request.uri.queryParameters.get("format") == "csv" {
                return csv(
                    FleetCSV.contract(contract, summary: summary, language: language(of: request)),
                    name: "tenken-contract-\(contract.id).csv")
            }
            return try encoded(contract)
        }
        admin.get("api/v1/machines/:key/reports") { _, context -> Response in
            try encoded(try await store.reportHeaders(keyID: context.parameters.get("key") ?? ""))
        }
        admin.get("api/v1/reports/:id") { _, context -> Response in
            // The signed report itself, so anyone can verify it again (tenken verify).
            guard let report = try await store.report(id: context.parameters.get("id") ?? "") else {
                throw HTTPError(.notFound, message: "no such report")
            }
            guard !report.token.isEmpty else {
                throw HTTPError(.internalServerError, message: "the stored report is damaged")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/jose"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: report.token + "\n")))
        }
        admin.get("metrics") { _, _ -> Response in
            let text = metrics.exposition(fleet: try await fleet().counts)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }

    struct Enrollment: Decodable {
        let token: String
        let publicKey: String
        let machineId: String
        let hostname: String
        let dmiSerial: String?

        var isReasonable: Bool {
            token.utf8.count <= 200 && machineId.utf8.count <= 200 && hostname.utf8.count <= 255
                && (dmiSerial?.utf8.count ?? 0) <= 200
        }
    }

    /// Tokens are stored hashed: the database never holds a usable one.
    public static func tokenHash(_ token: String) -> String {
        ByteText.hex(SHA256.hash(data: Array(token.utf8)))
    }

    /// A new random token (256 bits, base64url), for enrollment or admin access. The prefix
    /// keeps it from starting with "-", which `tenken enroll --token` would take for an option
    /// (one token in 64 did), and lets secret scanners recognize it.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return "tk_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// ?lang=ja|en, else the browser's first preference, else Japanese (the users are Japanese).
    static func language(of request: Request) -> Language {
        if let asked = request.uri.queryParameters.get("lang").flatMap(Language.init(rawValue:)) { return asked }
        let accepted = (request.headers[.acceptLanguage] ?? "").lowercased()
        return accepted.isEmpty || accepted.hasPrefix("ja") ? .ja : .en
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func encoded(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func html(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func csv(_ text: String, name: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name)\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
