import Crypto
import FoundationEssentials
import Hummingbird
import TenkenBase

/// POST /api/v1/enroll: a one-time token binds a machine's Ed25519 key to the machine it names,
/// in a request signed by that key (`EnrollmentRequest`: proof of possession).
/// POST /api/v1/rotate: a machine's current key asks for a new one (`KeyRotation`).
/// Each enrollment and rotation, and each refusal with its reason, is audited (a token by its id only).
struct EnrollmentController {
    let store: any ReportStore
    let keys: EnrolledKeyCache
    let metrics: CollectorMetrics
    let audit: AuditLog
    /// How far a rotation request's time may be from this clock.
    let maximumClockSkew: Int
    /// Rotations a machine may ask for a day: each keeps a key row and writes an audit entry.
    let rotations: WindowedLimit

    func addRoutes(to router: Router<CollectorRequestContext>) {
        router.post("api/v1/enroll") { request, context -> Response in
            let body = try await request.body.collect(upTo: 64 << 10)
            var enrollment: EnrollmentRequest.Verified?
            do {
                let verified = try verify(Array(buffer: body)[...])
                enrollment = verified
                return try await enroll(verified, client: context.client)
            } catch let refusal as Refused {
                throw answer(
                    refusal, as: .enrollmentRefused, ja: "登録を拒否しました", en: "enrollment refused",
                    fields: [
                        ("TENKEN_TOKEN_ID", enrollment.map { tokenID($0.payload.token) } ?? "-"),
                        ("TENKEN_MACHINE_ID", enrollment?.payload.machineId ?? "-"), ("TENKEN_REMOTE", context.client),
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
        return HTTPError(
            refusal.status, headers: refusal.retryAfter.map { [.retryAfter: String($0)] } ?? [:],
            message: refusal.message)
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
        if let wait = rotations.admit(current.machine, now: Timestamp.seconds()) {
            throw Refused(
                status: .tooManyRequests, reason: "rate_limited",
                message: "more than \(rotations.limit) key rotations a day for this machine: try again in \(wait) s",
                retryAfter: wait)
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
        var retryAfter: Int?
    }

    private func tokenID(_ token: String) -> String {
        AuditEvent.tokenID(hash: CollectorApplication.tokenHash(token))
    }

    /// The request's signature (by the key it enrolls), time and fields.
    private func verify(_ body: ArraySlice<UInt8>) throws(Refused) -> EnrollmentRequest.Verified {
        let verified: EnrollmentRequest.Verified
        do {
            verified = try EnrollmentRequest.verify(body, now: Timestamp.seconds(), skew: maximumClockSkew)
        } catch {
            // A key off the curve, of small order or with a small-order part is refused here too.
            let weak = error.reason.contains("key is refused")
            throw Refused(
                status: .badRequest, reason: weak ? "weak_key" : "malformed",
                message: "invalid enrollment request (a JWS signed by the key it enrolls, with the token, machineId, "
                    + "hostname, dmiSerial and issuedAt): \(error.reason)")
        }
        let payload = verified.payload
        guard payload.token.utf8.count <= 200, !payload.machineId.isEmpty, payload.machineId.utf8.count <= 200,
            payload.hostname.utf8.count <= 255, (payload.dmiSerial?.utf8.count ?? 0) <= 200
        else {
            throw Refused(
                status: .badRequest, reason: "malformed",
                message: "machineId must be 1 to 200 bytes, hostname at most 255, token and dmiSerial at most 200")
        }
        return verified
    }

    private func enroll(_ enrollment: EnrollmentRequest.Verified, client: String) async throws -> Response {
        let payload = enrollment.payload
        let machine = EnrolledMachine(
            keyID: enrollment.keyID, publicKey: Base64URL.encode(enrollment.publicKey.rawRepresentation),
            machineID: payload.machineId, hostname: payload.hostname, dmiSerial: payload.dmiSerial)
        let outcome = try await store.enroll(
            tokenHash: CollectorApplication.tokenHash(payload.token), machine: machine, now: Timestamp.seconds())
        let fields = [
            ("TENKEN_KEY_ID", machine.keyID), ("TENKEN_MACHINE_ID", machine.machineID),
            ("TENKEN_HOSTNAME", machine.hostname), ("TENKEN_DMI_SERIAL", machine.dmiSerial ?? "-"),
            ("TENKEN_TOKEN_ID", tokenID(payload.token)), ("TENKEN_REMOTE", client),
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
