import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector
@testable import TenkenScan

/// The collector's controllers in this process, on the in-memory store: each answer, and each
/// audit event, without TLS or a database (those are tested on loopback).
@Suite("collector handlers in process")
struct HandlerTests {
    /// The audit events the controllers recorded, in order.
    final class Events: Sendable {
        let list = Mutex<[AuditEvent]>([])
        func withLock<Result>(_ body: (inout [AuditEvent]) -> Result) -> Result { list.withLock { body(&$0) } }
    }

    let store = InMemoryReportStore()
    let events = Events()
    let scratch: ScratchTree

    init() throws {
        scratch = try ScratchTree()
    }

    var recorded: [String] { events.withLock { $0.map { $0.kind.rawValue + ":" + (Self.field($0, "TENKEN_REASON")) } } }

    static func field(_ event: AuditEvent, _ name: String) -> String {
        event.fields.first { $0.0 == name }?.1 ?? ""
    }

    func application() -> some ApplicationProtocol {
        let events = events
        let configuration = CollectorApplication.Configuration(
            host: "127.0.0.1", port: 0, certificate: "", privateKey: "")
        let metrics = CollectorMetrics()
        return Application(
            router: CollectorApplication.router(
                store: store, configuration: configuration, metrics: metrics,
                audit: CollectorApplication.counted(
                    AuditLog { event in events.withLock { $0.append(event) } }, metrics: metrics)))
    }

    func token() async throws -> String {
        let token = CollectorApplication.newToken()
        try await store.addEnrollmentToken(hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds())
        return token
    }

    static func enrollment(
        _ token: String, _ key: MachineKey, serial: String = "S1", issuedAt: Int = Timestamp.seconds()
    ) throws -> ByteBuffer {
        ByteBuffer(
            string: try EnrollmentRequest.sign(
                CollectorTests.enrollment(token: token, dmiSerial: serial, issuedAt: issuedAt), with: key))
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, _ body: ByteBuffer) async throws -> TestResponse
    {
        try await client.execute(uri: uri, method: .post, body: body)
    }

    @Test("enrollment: created with the machine and its last sequence; each refusal answered and audited")
    func enrollment() async throws {
        let key = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
        let token = try await token()
        let other = try await self.token()
        try await application().test(.router) { client in
            let created = try await Self.post(client, "/api/v1/enroll", try Self.enrollment(token, key))
            #expect(created.status == .created)
            let keyID = MachineKey.thumbprint(key.publicKey)
            #expect(String(buffer: created.body).contains(#""machine":"\#(keyID)","lastSequence":0"#))
            #expect(created.headers[.strictTransportSecurity] != nil)
            #expect(try await Self.post(client, "/api/v1/enroll", try Self.enrollment(token, key)).status == .forbidden)
            #expect(try await Self.post(client, "/api/v1/enroll", ByteBuffer(string: "{}")).status == .badRequest)
            let identity = [1] + [UInt8](repeating: 0, count: 31)
            let payload = String(
                decoding: try JSONEncoder().encode(CollectorTests.enrollment(token: other)), as: UTF8.self)
            let weak = Ed25519Vectors.forgedToken(key: identity, r: identity, payload: payload)
            #expect(try await Self.post(client, "/api/v1/enroll", ByteBuffer(string: weak)).status == .badRequest)
            // Another machine's public key with a spare token, signed by a key the sender holds:
            // the signature does not match the key it names.
            let victim = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
            let header =
                #"{"alg":"EdDSA","jwk":\#(victim.jwk),"kid":"\#(MachineKey.thumbprint(victim.publicKey))","#
                + #""typ":"\#(JWS.type)"}"#
            let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
            let stolen = input + "." + Base64URL.encode(try key.privateKey.signature(for: Array(input.utf8)))
            let unproved = try await Self.post(client, "/api/v1/enroll", ByteBuffer(string: stolen))
            #expect(unproved.status == .badRequest && String(buffer: unproved.body).contains("signature"))
            // A request made an hour ago is not taken again.
            let stale = try await Self.post(
                client, "/api/v1/enroll", try Self.enrollment(other, victim, issuedAt: Timestamp.seconds() - 3600))
            #expect(stale.status == .badRequest && String(buffer: stale.body).contains("issuedAt"))
            let second = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
            let conflict = try await Self.post(client, "/api/v1/enroll", Self.enrollment(other, second))
            #expect(conflict.status == .conflict && String(buffer: conflict.body).contains("token --machine"))
        }
        #expect(
            recorded == [
                "enrolled:", "enrollment_refused:token", "enrollment_refused:malformed",
                "enrollment_refused:weak_key", "enrollment_refused:malformed", "enrollment_refused:malformed",
                "enrollment_refused:already_enrolled",
            ], "\(recorded)")
        #expect(try await store.enrollmentTokens().filter { $0.usedAt == nil }.count == 1)
    }

    @Test("ingest: stored, acknowledged again, replay, garbage and an unknown key; refusals audited with the key")
    func ingest() async throws {
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        let token = try await token()
        let signer = CollectorTests.Signer(scratch: scratch, key: key, dmiSerial: "S1")
        let (file, report) = try signer.signed(sequence: 1)
        let body = ByteBuffer(bytes: try Data(contentsOf: URL(filePath: file)))
        let stranger = CollectorTests.Signer(
            scratch: scratch, key: MachineKey(privateKey: Curve25519.Signing.PrivateKey()))
        let unknown = ByteBuffer(bytes: try Data(contentsOf: URL(filePath: try stranger.signed(sequence: 1).0)))
        // The same sequence again, as another report: a replay.
        let replay = ByteBuffer(bytes: try Data(contentsOf: URL(filePath: try signer.signed(sequence: 1).0)))
        try await application().test(.router) { client in
            #expect(try await Self.post(client, "/api/v1/enroll", try Self.enrollment(token, key)).status == .created)
            let stored = try await Self.post(client, "/api/v1/reports", body)
            #expect(stored.status == .created && String(buffer: stored.body).contains(report.reportID))
            let again = try await Self.post(client, "/api/v1/reports", body)
            #expect(again.status == .ok && String(buffer: again.body).contains(#""duplicate":true"#))
            #expect(try await Self.post(client, "/api/v1/reports", replay).status == .conflict)
            #expect(try await Self.post(client, "/api/v1/reports", ByteBuffer(string: "a.b.c")).status == .badRequest)
            #expect(try await Self.post(client, "/api/v1/reports", unknown).status == .forbidden)
        }
        #expect(
            recorded == [
                "enrolled:", "report_refused:replayed", "report_refused:invalid", "report_refused:unknown_key",
            ])
        let refusals = events.withLock { $0.filter { $0.kind == .reportRefused } }
        #expect(Self.field(refusals[0], "TENKEN_KEY_ID") == MachineKey.thumbprint(key.publicKey))
        #expect(Self.field(refusals[1], "TENKEN_KEY_ID") == "-")
        #expect(Self.field(refusals[2], "TENKEN_STATUS") == "403")
        #expect(try await store.reports(keyID: MachineKey.thumbprint(key.publicKey)).map(\.sequence) == [1])
    }

    @Test("fleet views: 401 without the admin token (a wrong one audited), then JSON, no-store, metrics")
    func fleetViews() async throws {
        let admin = CollectorApplication.newToken()
        try await store.addAdminToken(hash: CollectorApplication.tokenHash(admin), now: 1)
        try await application().test(.router) { client in
            let anonymous = try await client.execute(uri: "/api/v1/fleet", method: .get)
            #expect(anonymous.status == .unauthorized && anonymous.headers[.wwwAuthenticate] != nil)
            let wrong = try await client.execute(
                uri: "/api/v1/fleet", method: .get, headers: [.authorization: "Bearer tk_wrong"])
            #expect(wrong.status == .unauthorized)
            let fleet = try await client.execute(
                uri: "/api/v1/fleet", method: .get, headers: [.authorization: "Bearer " + admin])
            #expect(fleet.status == .ok && fleet.headers[.cacheControl] == "no-store")
            #expect(String(buffer: fleet.body).contains(#""machines":[]"#), "\(String(buffer: fleet.body))")
            let metrics = try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer " + admin])
            #expect(String(buffer: metrics.body).contains("tenken_reports_received_total"))
            #expect(String(buffer: try await client.execute(uri: "/healthz", method: .get).body) == "ok\n")
        }
        #expect(recorded == ["admin_authentication_failed:unknown_token"])
    }

    @Test("key rotation: rotated and audited with both keys; a request signed by an unknown key refused")
    func rotation() async throws {
        let key = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
        let next = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
        let token = try await token()
        try await application().test(.router) { client in
            #expect(try await Self.post(client, "/api/v1/enroll", try Self.enrollment(token, key)).status == .created)
            let request = try KeyRotation.request(current: key, next: next, issuedAt: Timestamp.seconds())
            #expect(try await Self.post(client, "/api/v1/rotate", ByteBuffer(string: request)).status == .ok)
            let unknown = try KeyRotation.request(
                current: MachineKey(privateKey: Curve25519.Signing.PrivateKey()), next: next,
                issuedAt: Timestamp.seconds())
            #expect(try await Self.post(client, "/api/v1/rotate", ByteBuffer(string: unknown)).status == .forbidden)
        }
        #expect(recorded == ["enrolled:", "key_rotated:", "key_rotation_refused:unknown_key"])
        let rotated = try #require(events.withLock { $0.first { $0.kind == .keyRotated } })
        #expect(Self.field(rotated, "TENKEN_PREVIOUS_KEY_ID") == MachineKey.thumbprint(key.publicKey))
        #expect(Self.field(rotated, "TENKEN_KEY_ID") == MachineKey.thumbprint(next.publicKey))
        #expect(try await store.signingKey(keyID: MachineKey.thumbprint(next.publicKey)) != nil)
    }

    @Test(
        "refusals from one address: 30 a minute reach the audit log, the rest are counted; the next one says how many")
    func refusalsThrottled() async throws {
        let admin = CollectorApplication.newToken()
        try await store.addAdminToken(hash: CollectorApplication.tokenHash(admin), now: 1)
        try await application().test(.router) { client in
            for _ in 0..<40 {
                #expect(try await Self.post(client, "/api/v1/enroll", ByteBuffer(string: "{}")).status == .badRequest)
            }
            let metrics = try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer " + admin])
            #expect(String(buffer: metrics.body).contains("tenken_audit_refusals_suppressed_total 10"))
        }
        #expect(recorded.count == 30)
        // Per address bucket and per kind, in windows; what a window left out is summed up once it ends.
        // Each address its own bucket (its last number), so no two share one by chance.
        let throttle = AuditThrottle(perKind: 5, perAddress: 3, seconds: 60) {
            Int($0.split(separator: ".").last ?? "") ?? 0
        }
        let token = AuditThrottle.Kind(event: .enrollmentRefused, reason: "token")
        #expect(
            (0..<5).map { _ in throttle.admit(token, address: "192.0.2.1", now: 1000).log }
                == [true, true, true, false, false])
        // Other addresses until the kind's own limit; another kind is not held back by it.
        let others = (2..<12).map { throttle.admit(token, address: "192.0.2.\($0)", now: 1000).log }
        #expect(others.filter { $0 }.count == 2)
        let stale = AuditThrottle.Kind(event: .reportRefused, reason: "replayed")
        #expect(throttle.admit(stale, address: "192.0.2.1", now: 1001).log)
        #expect(throttle.due(now: 1059).isEmpty)
        let summaries = throttle.due(now: 1060)
        #expect(summaries.map(\.kind) == [token] && summaries.first?.suppressed == 10, "\(summaries)")
        #expect(summaries.first?.samples == ["192.0.2.1", "192.0.2.4", "192.0.2.5"], "\(summaries)")
        #expect(throttle.admit(token, address: "192.0.2.1", now: 1061) == (true, []))
    }
}
