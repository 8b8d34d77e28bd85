import Crypto
import FoundationEssentials
import Hummingbird
import TenkenBase

/// POST /api/v1/enroll: a one-time token binds a machine's Ed25519 key to the machine it names.
/// Each enrollment, and each refusal with its reason, is audited (the token by its id only).
struct EnrollmentController {
    let store: any ReportStore
    let metrics: CollectorMetrics
    let audit: AuditLog

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

    func addRoutes(to router: Router<CollectorRequestContext>) {
        router.post("api/v1/enroll") { request, context -> Response in
            let body = try await request.body.collect(upTo: 64 << 10)
            let enrollment = try? JSONDecoder().decode(Enrollment.self, from: Data(buffer: body))
            do {
                return try await enroll(enrollment, client: context.client)
            } catch let refusal as Refused {
                audit.record(
                    AuditEvent(
                        .enrollmentRefused, .warning,
                        ja: "登録を拒否しました: \(refusal.message)", en: "enrollment refused: \(refusal.message)",
                        fields: [
                            ("TENKEN_REASON", refusal.reason), ("TENKEN_DETAIL", refusal.message),
                            ("TENKEN_TOKEN_ID", enrollment.map { tokenID($0.token) } ?? "-"),
                            ("TENKEN_MACHINE_ID", enrollment?.machineId ?? "-"), ("TENKEN_REMOTE", context.client),
                        ]))
                throw HTTPError(refusal.status, message: refusal.message)
            }
        }
    }

    /// Why an enrollment was refused: the answer's status and message, the audit log's reason.
    struct Refused: Error {
        let status: HTTPResponse.Status
        let reason: String
        let message: String
    }

    private func tokenID(_ token: String) -> String {
        AuditEvent.tokenID(hash: CollectorApplication.tokenHash(token))
    }

    private func enroll(_ enrollment: Enrollment?, client: String) async throws -> Response {
        guard let enrollment, enrollment.isReasonable, let raw = Base64URL.decode(enrollment.publicKey) else {
            throw Refused(
                status: .badRequest, reason: "malformed",
                message: "expected {token, publicKey (base64url Ed25519), machineId, hostname, dmiSerial?}")
        }
        // A small-order key verifies forged signatures for any report: never enrolled.
        if let problem = StrictEd25519.publicKeyProblem(raw) {
            throw Refused(status: .badRequest, reason: "weak_key", message: "publicKey refused: \(problem)")
        }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw Refused(status: .badRequest, reason: "malformed", message: "publicKey is not an Ed25519 public key")
        }
        let machine = EnrolledMachine(
            keyID: MachineKey.thumbprint(key), publicKey: enrollment.publicKey, machineID: enrollment.machineId,
            hostname: enrollment.hostname, dmiSerial: enrollment.dmiSerial)
        guard
            try await store.enroll(
                tokenHash: CollectorApplication.tokenHash(enrollment.token), machine: machine, now: Timestamp.seconds())
        else {
            throw Refused(
                status: .forbidden, reason: "token",
                message: "unknown, expired, revoked or already used enrollment token")
        }
        metrics.enrolled()
        audit.record(
            AuditEvent(
                .enrolled, .notice,
                ja: "端末を登録しました: \(machine.hostname) (鍵 \(machine.keyID))",
                en: "machine enrolled: \(machine.hostname) (key \(machine.keyID))",
                fields: [
                    ("TENKEN_KEY_ID", machine.keyID), ("TENKEN_MACHINE_ID", machine.machineID),
                    ("TENKEN_HOSTNAME", machine.hostname), ("TENKEN_DMI_SERIAL", machine.dmiSerial ?? "-"),
                    ("TENKEN_TOKEN_ID", tokenID(enrollment.token)), ("TENKEN_REMOTE", client),
                ]))
        return Answer.json(.created, #"{"keyId":"\#(machine.keyID)"}"#)
    }
}
