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

/// The collector's HTTPS server: TLS, limits, and its controllers' routes.
/// Open: /healthz, enrollment and key rotation (`EnrollmentController`), ingest (`IngestController`).
/// Behind the admin token (`AdminAuthentication`): the fleet views (`FleetController`), /metrics.
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
        /// Connections open at once from one address (an IPv6 /64): one host cannot hold the
        /// slots every other machine needs (`AddressConnectionLimit`).
        public var maximumConnectionsPerAddress = 64
        /// Requests of one connection waiting for their answers (`PipelineLimit`).
        var maximumPipelined = 16
        /// What one machine may send (`MachineLimits`).
        public var machineLimits = MachineLimits()
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
        metrics: CollectorMetrics = CollectorMetrics(), audit: AuditLog
    ) throws -> some ApplicationProtocol {
        let audit = counted(audit, metrics: metrics)
        let addresses = AddressConnectionLimit(limit: configuration.maximumConnectionsPerAddress)
        return Application(
            router: router(store: store, configuration: configuration, metrics: metrics, audit: audit),
            server: HTTPServerBuilder { responder in
                try TLSChannel(
                    SlicedHTTP1Channel(
                        base: HTTP1Channel(
                            responder: responder,
                            configuration: .init(additionalChannelHandlers: [
                                addresses.handler(), ConnectionDeadline(limits: configuration.deadlines),
                                PipelineLimit(limit: configuration.maximumPipelined),
                            ]))),
                    tlsConfiguration: tls(certificate: configuration.certificate, privateKey: configuration.privateKey))
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "tenken-collector",
                availableConnectionsDelegate: MaximumAvailableConnections(
                    connectionCap(configuration.maximumConnections))),
            services: [AuditFlush(audit: audit)])
    }

    /// The audit log as the server keeps it: refusals throttled (`AuditThrottle`), and what
    /// journald had no room for or the throttle left out counted in /metrics.
    static func counted(_ audit: AuditLog, metrics: CollectorMetrics) -> AuditLog {
        audit.counting(
            dropped: { metrics.droppedAuditEvent() }, throttle: AuditThrottle(),
            suppressed: { metrics.suppressedAuditEvent() })
    }

    /// The controllers' routes: open ones first, then those behind the admin token. `audit` as
    /// `counted` makes it.
    static func router(
        store: any ReportStore, configuration: Configuration, metrics: CollectorMetrics, audit: AuditLog
    ) -> Router<CollectorRequestContext> {
        let router = Router(context: CollectorRequestContext.self)
        router.add(middleware: SecurityHeaders(authenticated: false))
        router.add(middleware: StorageFull(audit: audit))
        let keys = EnrolledKeyCache(store: store)
        EnrollmentController(
            store: store, keys: keys, metrics: metrics, audit: audit, maximumClockSkew: configuration.maximumClockAhead,
            rotations: WindowedLimit(limit: configuration.machineLimits.rotationsPerDay, seconds: 86_400)
        ).addRoutes(to: router)
        IngestController(
            ingest: Ingest(
                store: store, keys: keys, maximumClockAhead: configuration.maximumClockAhead,
                maximumReportSize: configuration.maximumBodySize, limits: configuration.machineLimits),
            maximumBodySize: configuration.maximumBodySize, metrics: metrics, audit: audit
        ).addRoutes(to: router)
        let admin = router.group().add(middleware: SecurityHeaders(authenticated: true))
            .add(middleware: AdminAuthentication(store: store, audit: audit))
        let fleet = FleetController(
            store: store, silentAfterHours: configuration.silentAfterHours, contracts: ContractIndex.embedded())
        fleet.addRoutes(to: admin)
        OperationsController(metrics: metrics, fleet: fleet).addRoutes(to: router, admin: admin)
        return router
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
}
