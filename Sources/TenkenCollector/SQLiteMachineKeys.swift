import GRDB
import TenkenBase

/// Machines and their keys in the SQLite store: enrollment, key replacement and rotation,
/// removal, the expected policy. A machine keeps the id of the key it first enrolled with; its
/// keys are rows of `machine_keys`, current or retired. Every write is synced before it is
/// answered, as reports are.
extension SQLiteReportStore {
    public func machine(keyID: String) async throws -> EnrolledMachine? {
        try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM machines WHERE key_id = ? AND removed_at IS NULL", arguments: [keyID]
            ).map(Self.machine)
        }
    }

    public func signingKey(keyID: String) async throws -> SigningKey? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT m.*, k.public_key AS signing_public_key,
                        k.retired_at IS NOT NULL OR m.removed_at IS NOT NULL AS signing_retired
                    FROM machine_keys k JOIN machines m ON m.key_id = k.machine
                    WHERE k.key_id = ?
                    """, arguments: [keyID]
            ).map { row in
                SigningKey(
                    keyID: keyID, publicKey: row["signing_public_key"], machine: Self.machine(row),
                    retired: row["signing_retired"] ?? true)
            }
        }
    }

    public func removeMachine(keyID: String, now: Int) async throws -> Bool {
        try await durableWrite { db in
            try db.execute(
                sql: "UPDATE machines SET removed_at = ? WHERE key_id = ? AND removed_at IS NULL",
                arguments: [now, keyID])
            guard db.changesCount == 1 else { return false }
            // Its keys are never good again, not even for enrolling anew.
            try db.execute(
                sql: "UPDATE machine_keys SET retired_at = ? WHERE machine = ? AND retired_at IS NULL",
                arguments: [now, keyID])
            try db.execute(
                sql: """
                    UPDATE machines SET pending_key_id = NULL, sightings_digest = NULL, security_pending_since = NULL
                    WHERE key_id = ?
                    """, arguments: [keyID])
            try db.execute(sql: "DELETE FROM update_sightings WHERE key_id = ?", arguments: [keyID])
            return true
        }
    }

    public func setPolicy(keyID: String, digest: String) async throws -> Bool {
        try await durableWrite { db in
            try db.execute(
                sql: "UPDATE machines SET policy_digest = ? WHERE key_id = ? AND removed_at IS NULL",
                arguments: [digest, keyID])
            return db.changesCount == 1
        }
    }

    public func enroll(tokenHash: String, machine: EnrolledMachine, now: Int) async throws -> EnrollmentOutcome {
        try await durableWrite { db -> EnrollmentOutcome in
            guard
                let token = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT policy_digest, machine FROM enrollment_tokens
                        WHERE hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
                        """, arguments: [tokenHash, now])
            else { return .tokenRefused }
            let outcome = try Self.bind(
                machine, policy: token["policy_digest"], target: token["machine"], now: now, in: db)
            // A token not bound stays good for the machine it was meant for.
            if outcome.isBound {
                try db.execute(
                    sql: "UPDATE enrollment_tokens SET used_at = ? WHERE hash = ?", arguments: [now, tokenHash])
            }
            return outcome
        }
    }

    /// Binds the key as `KeyBinding` decides from what the database holds.
    private static func bind(
        _ machine: EnrolledMachine, policy tokenPolicy: String?, target: String?, now: Int, in db: Database
    ) throws -> EnrollmentOutcome {
        let key = try Row.fetchOne(
            db, sql: "SELECT machine, retired_at FROM machine_keys WHERE key_id = ?", arguments: [machine.keyID])
        let candidates = try Row.fetchAll(
            db, sql: "SELECT * FROM machines WHERE machine_id = ? AND removed_at IS NULL ORDER BY key_id",
            arguments: [machine.machineID]
        ).map(Self.machine)
        let owner = try key.flatMap { key -> EnrolledMachine? in
            let owner: String = key["machine"]
            return try Row.fetchOne(db, sql: "SELECT * FROM machines WHERE key_id = ?", arguments: [owner])
                .map(Self.machine)
        }
        let known = KeyBinding.Known(
            key: key.map { key in
                (
                    machine: key["machine"], retired: key["retired_at"] as Int? != nil,
                    sameMachine: owner.map { KeyBinding.isSameMachine($0, as: machine) } ?? false
                )
            },
            target: try target.map { (machine: $0, lastSequence: try lastSequence($0, in: db)) },
            sameMachines: candidates.filter { KeyBinding.isSameMachine($0, as: machine) }.map(\.keyID))
        let identity: StatementArguments = [machine.machineID, machine.hostname, machine.dmiSerial]
        switch KeyBinding.decide(known) {
        case .refuse(let outcome):
            return outcome
        case .updateInPlace(let owner):
            // The machine keeps its policy unless the token names one.
            try db.execute(
                sql: """
                    UPDATE machines SET machine_id = ?, hostname = ?, dmi_serial = ?,
                        policy_digest = COALESCE(?, policy_digest)
                    WHERE key_id = ?
                    """, arguments: identity + [tokenPolicy, owner])
            return .enrolled(machine: owner, lastSequence: try lastSequence(owner, in: db) ?? 0)
        case .replaceKeys(let target, let last):
            // The machine keeps its id, its reports and its policy (unless the token names one).
            try db.execute(
                sql: "UPDATE machine_keys SET retired_at = ? WHERE machine = ? AND retired_at IS NULL",
                arguments: [now, target])
            try addKey(machine.keyID, machine: target, publicKey: machine.publicKey, now: now, in: db)
            try db.execute(
                sql: """
                    UPDATE machines SET machine_id = ?, hostname = ?, dmi_serial = ?, public_key = ?,
                        policy_digest = COALESCE(?, policy_digest), pending_key_id = NULL
                    WHERE key_id = ?
                    """, arguments: identity + [machine.publicKey, tokenPolicy, target])
            return .replacedKey(machine: target, lastSequence: last)
        case .newMachine:
            try db.execute(
                sql: """
                    INSERT INTO machines (key_id, public_key, machine_id, hostname, dmi_serial, enrolled_at,
                                          policy_digest)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [machine.keyID, machine.publicKey] + identity + [now, tokenPolicy ?? machine.policyDigest])
            try addKey(machine.keyID, machine: machine.keyID, publicKey: machine.publicKey, now: now, in: db)
            return .enrolled(machine: machine.keyID, lastSequence: 0)
        }
    }

    public func rotateKey(from currentKeyID: String, to newKeyID: String, publicKey: String, now: Int) async throws
        -> RotationOutcome
    {
        try await durableWrite { db -> RotationOutcome in
            guard
                let current = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT k.machine, m.pending_key_id FROM machine_keys k JOIN machines m ON m.key_id = k.machine
                        WHERE k.key_id = ? AND k.retired_at IS NULL AND m.removed_at IS NULL
                        """, arguments: [currentKeyID])
            else { return .unknownKey }
            let machine: String = current["machine"]
            let pending: String? = current["pending_key_id"]
            // Asked again (the answer was lost): the same answer.
            if pending == newKeyID { return .rotated(machine: machine) }
            // Only the pending key itself may ask for yet another.
            if let pending, pending != currentKeyID { return .rotationPending }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM machine_keys WHERE key_id = ?", arguments: [newKeyID]) == true
            {
                return .keyInUse
            }
            // The pending key asking for another: it never signed a stored report, and goes.
            if let pending {
                try db.execute(
                    sql: "UPDATE machine_keys SET retired_at = ? WHERE key_id = ?", arguments: [now, pending])
            }
            try Self.addKey(newKeyID, machine: machine, publicKey: publicKey, now: now, in: db)
            try db.execute(
                sql: "UPDATE machines SET pending_key_id = ? WHERE key_id = ?", arguments: [newKeyID, machine])
            return .rotated(machine: machine)
        }
    }

    /// The first stored report signed with a rotated-to key: that key is the machine's, and its
    /// older keys are retired (their reports, still spooled, were sent before it).
    static func completeRotation(machine: String, to keyID: String, publicKey: String, now: Int, in db: Database)
        throws
    {
        try db.execute(
            sql: "UPDATE machine_keys SET retired_at = ? WHERE machine = ? AND key_id != ? AND retired_at IS NULL",
            arguments: [now, machine, keyID])
        try db.execute(
            sql: """
                DELETE FROM machine_keys WHERE machine = ? AND retired_at IS NOT NULL AND rowid NOT IN (
                    SELECT rowid FROM machine_keys WHERE machine = ? AND retired_at IS NOT NULL
                    ORDER BY retired_at DESC, rowid DESC LIMIT ?)
                """, arguments: [machine, machine, ReportAdmission.retiredKeysKept])
        try db.execute(
            sql: "UPDATE machines SET public_key = ?, pending_key_id = NULL WHERE key_id = ?",
            arguments: [publicKey, machine])
    }

    private static func addKey(_ keyID: String, machine: String, publicKey: String, now: Int, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO machine_keys (key_id, machine, public_key, added_at) VALUES (?, ?, ?, ?)",
            arguments: [keyID, machine, publicKey, now])
    }

    /// nil when no such machine is enrolled.
    private static func lastSequence(_ machine: String, in db: Database) throws -> Int? {
        try Int.fetchOne(
            db, sql: "SELECT last_sequence FROM machines WHERE key_id = ? AND removed_at IS NULL", arguments: [machine])
    }
}
