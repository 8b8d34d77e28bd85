import Crypto
import FoundationEssentials
import Hummingbird
import TenkenBase

/// POST /api/v1/enroll: a one-time token binds a machine's Ed25519 key to the machine it names.
/// POST /api/v1/rotate: a machine's current key asks for a new one (`KeyRotation`).
/// Each enrollment and rotation, and each refusal with its reason, is audited (a token by its id only).
struct EnrollmentController {
    let store: any ReportStore
    let keys: EnrolledKeyCache
    let metrics: CollectorMetrics
    let audit: AuditLog
    /// How far a rotation request's time may be from this clock.
    let maximumClockSkew: Int

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
                throw answer(
                    refusal, as: .enrollmentRefused, ja: "登録を拒否しました", en: "enrollment refused",
                    fields: [
                        ("TENKEN_TOKEN_ID", enrollment.map { tokenID($0.token) } ?? "-"),
                        ("TENKEN_MACHINE_ID", enrollment?.machineId ?? "-"), ("TENKEN_REMOTE", context.client),
                    ])
            }
        }
        router.post("api/v1/rotate") { request, context -> Response in
            let body = try await request.body.collect(upTo: 64 << 10)
            do {
                return try await rotate(Array(buffer: body)[...], client: context.client)
            } catch let refusal as Refused {
                throw answer(
                    refusal, as: .keyRotationRefused, ja: "鍵の更新を拒否しました", en: "key rotation refused",
                    fields: [("TENKEN_REMOTE", context.client)])
            }
        }
    }

    /// Audits a refusal, with its reason and what it says, and makes its answer.
    private func answer(
        _ refusal: Refused, as kind: AuditEvent.Kind, ja: String, en: String, fields: [(String, String)]
    ) -> HTTPError {
        audit.record(
            AuditEvent(
                kind, .warning, ja: "\(ja): \(refusal.message)", en: "\(en): \(refusal.message)",
                fields: [("TENKEN_REASON", refusal.reason), ("TENKEN_DETAIL", refusal.message)] + fields))
        return HTTPError(refusal.status, message: refusal.message)
    }

    private func rotate(_ body: ArraySlice<UInt8>, client: String) async throws -> Response {
        let request: KeyRotation.Verified
        do { request = try KeyRotation.verify(body, now: Timestamp.seconds(), skew: maximumClockSkew) } catch {
            throw Refused(status: .badRequest, reason: "invalid", message: "invalid rotation request: \(error.reason)")
        }
        // Read first (remembered): a key nobody enrolled costs no write.
        guard let current = try await keys.key(request.currentKeyID), !current.retired else {
            throw Refused(
                status: .forbidden, reason: "unknown_key",
                message: "the signing key is not a current key of an enrolled machine")
        }
        switch try await store.rotateKey(
            from: request.currentKeyID, to: request.newKeyID,
            publicKey: Base64URL.encode(request.newKey.rawRepresentation), now: Timestamp.seconds())
        {
        case .rotated(let machine):
            audit.record(
                AuditEvent(
                    .keyRotated, .notice,
                    ja: "鍵を更新しました: 端末 \(machine) の鍵 \(request.currentKeyID) → \(request.newKeyID)",
                    en: "key rotated: machine \(machine), key \(request.currentKeyID) → \(request.newKeyID)",
                    fields: [
                        ("TENKEN_MACHINE", machine), ("TENKEN_KEY_ID", request.newKeyID),
                        ("TENKEN_PREVIOUS_KEY_ID", request.currentKeyID), ("TENKEN_HOW", "signed"),
                        ("TENKEN_REMOTE", client),
                    ]))
            return Answer.json(.ok, #"{"keyId":"\#(request.newKeyID)","machine":"\#(machine)"}"#)
        case .unknownKey:
            throw Refused(
                status: .forbidden, reason: "unknown_key",
                message: "the signing key is not a current key of an enrolled machine")
        case .keyInUse:
            throw Refused(status: .conflict, reason: "key_in_use", message: "the new key is already enrolled")
        case .rotationPending:
            throw Refused(
                status: .conflict, reason: "rotation_pending",
                message: "a rotation to another key is pending: send the same request again, or ask for a token "
                    + "for this machine (tenken-collector token --machine)")
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
        let outcome = try await store.enroll(
            tokenHash: CollectorApplication.tokenHash(enrollment.token), machine: machine, now: Timestamp.seconds())
        let fields = [
            ("TENKEN_KEY_ID", machine.keyID), ("TENKEN_MACHINE_ID", machine.machineID),
            ("TENKEN_HOSTNAME", machine.hostname), ("TENKEN_DMI_SERIAL", machine.dmiSerial ?? "-"),
            ("TENKEN_TOKEN_ID", tokenID(enrollment.token)), ("TENKEN_REMOTE", client),
        ]
        let (owner, last): (String, Int)
        switch outcome {
        case .enrolled(let machineKey, let lastSequence):
            (owner, last) = (machineKey, lastSequence)
            audit.record(
                AuditEvent(
                    .enrolled, .notice,
                    ja: "端末を登録しました: \(machine.hostname) (鍵 \(machine.keyID))",
                    en: "machine enrolled: \(machine.hostname) (key \(machine.keyID))",
                    fields: [("TENKEN_MACHINE", owner)] + fields))
        case .replacedKey(let machineKey, let lastSequence):
            (owner, last) = (machineKey, lastSequence)
            audit.record(
                AuditEvent(
                    .keyRotated, .notice,
                    ja: "端末 \(owner) に発行されたトークンで鍵を置き換えました: \(machine.keyID)",
                    en: "key replaced with a token issued for machine \(owner): \(machine.keyID)",
                    fields: [("TENKEN_MACHINE", owner), ("TENKEN_HOW", "token")] + fields))
        case .tokenRefused:
            throw Refused(
                status: .forbidden, reason: "token",
                message: "unknown, expired, revoked or already used enrollment token")
        case .alreadyEnrolled(let owner):
            throw Refused(
                status: .conflict, reason: "already_enrolled",
                message: "this machine-id is already enrolled as \(owner) with another key: ask for a token for it "
                    + "(tenken-collector token --machine \(owner)) or run tenken rotate-key with its key; "
                    + "a cloned system needs a new machine-id (systemd-machine-id-setup)")
        case .keyRetired:
            throw Refused(
                status: .conflict, reason: "key_retired",
                message: "this key was replaced by a newer one, or its machine removed: it is never enrolled again")
        case .identityChanged(let owner):
            throw Refused(
                status: .conflict, reason: "identity_changed",
                message: "this key is enrolled for machine \(owner), whose machine-id or DMI serial is not this one: "
                    + "a key speaks for one machine; moving it needs a token for it (tenken-collector token "
                    + "--machine \(owner))")
        }
        keys.forget(machine: owner, key: machine.keyID)
        metrics.enrolled()
        return Answer.json(
            .created, #"{"keyId":"\#(machine.keyID)","machine":"\#(owner)","lastSequence":\#(last)}"#)
    }
}
