import FoundationEssentials
import GRDB
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer).
public final class SQLiteReportStore: ReportStore {
    let database: DatabasePool
    private let reportWriter: GroupCommit<(report: StoredReport, problems: Data, sightings: String), StoreOutcome>
    let walSync: WALSync

    /// Why the database cannot be opened where it was asked for.
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    public init(path: String) throws {
        try Self.prepareFiles(path)
        var configuration = Configuration()
        // The administration commands write to the database the running collector writes to:
        // each waits for the other's transaction instead of failing with "database is locked".
        configuration.busyMode = .timeout(10)
        // A report is acknowledged only after its transaction is on disk (the agent then deletes
        // its copy), power loss included. Commits are not synced by SQLite (NORMAL) but by
        // `WALSync` before any answer, so the single writer goes on while the disk catches up;
        // `GroupCommit` makes a batch of reports one transaction.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
        let walSync = WALSync(path: path + "-wal")
        self.database = database
        self.walSync = walSync
        reportWriter = GroupCommit(label: "tenken.report-writer") { reports in
            try Self.storeBatch(reports, in: database)
        }
    }

    /// The directory must exist: a mistyped `--database` is an error, not a new, empty fleet
    /// (systemd's StateDirectory makes /var/lib/tenken-collector). The database, and its -wal and
    /// -shm files, which SQLite creates with the database's mode, are 0600 whatever the umask.
    private static func prepareFiles(_ path: String) throws {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var info = stat()
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw Unusable(description: "the database's directory \(directory) does not exist (check --database)")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw Unusable(description: "cannot open the database \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else {
            throw Unusable(description: "cannot make the database \(path) private: \(String(cString: strerror(errno)))")
        }
        for companion in [path + "-wal", path + "-shm"] where chmod(companion, 0o600) != 0 && errno != ENOENT {
            throw Unusable(description: "cannot make \(companion) private: \(String(cString: strerror(errno)))")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "enrollment_tokens") { table in
                table.column("hash", .text).primaryKey()
                table.column("created_at", .integer).notNull()
                table.column("used_at", .integer)
            }
            try db.create(table: "machines") { table in
                table.column("key_id", .text).primaryKey()
                table.column("public_key", .text).notNull()
                table.column("machine_id", .text).notNull()
                table.column("hostname", .text).notNull()
                table.column("enrolled_at", .integer).notNull()
                table.column("last_sequence", .integer).notNull().defaults(to: 0)
                table.column("last_seen", .integer)
            }
            try db.create(table: "reports") { table in
                table.column("report_id", .text).primaryKey()
                table.column("key_id", .text).notNull().references("machines")
                table.column("sequence", .integer).notNull()
                table.column("received_at", .integer).notNull()
                table.column("verdict", .text).notNull()
                table.column("token", .text).notNull()
            }
            try db.create(index: "reports_by_machine", on: "reports", columns: ["key_id", "sequence"], unique: true)
        }
        migrator.registerMigration("v2 fleet views") { db in
            try db.alter(table: "machines") { table in
                table.add(column: "dmi_serial", .text)
                table.add(column: "last_report_id", .text)
            }
            try db.alter(table: "reports") { table in
                // The signed report as `CompactToken` keeps it; `token` holds only reports stored by v1.
                table.add(column: "jws_header", .text)
                table.add(column: "jws_payload_zstd", .blob)
                table.add(column: "jws_signature", .text)
                table.add(column: "started_at", .integer).notNull().defaults(to: 0)
                table.add(column: "hostname", .text).notNull().defaults(to: "")
                table.add(column: "policy_id", .text).notNull().defaults(to: "")
            }
            try db.create(table: "problems") { table in
                table.column("report_id", .text).notNull().references("reports", onDelete: .cascade)
                table.column("rule_id", .text).notNull()
                table.column("status", .text).notNull()
                table.column("severity", .text).notNull()
                table.column("title_ja", .text).notNull()
                table.column("title_en", .text).notNull()
                table.column("clauses", .text).notNull()  // newline-separated
                table.primaryKey(["report_id", "rule_id"])
            }
            // Reports stored under v1 stay readable (their `token`); machines point at their latest.
            try db.execute(
                sql: """
                    UPDATE machines SET last_report_id =
                        (SELECT report_id FROM reports r WHERE r.key_id = machines.key_id ORDER BY sequence DESC LIMIT 1)
                    """)
            try db.create(table: "admin_tokens") { table in
                table.column("hash", .text).primaryKey()
                table.column("created_at", .integer).notNull()
            }
        }
        migrator.registerMigration("v3 problems in the report row") { db in
            // A report's problems were rows of a table of their own, indexed by (report id, rule),
            // whose scattered pages were more than half of what each report wrote to disk. Now
            // they are JSON in the report's row. NULL only for reports of schema v1, which kept
            // none: they are read from the signed report.
            try db.alter(table: "reports") { table in table.add(column: "problems", .text) }
            // A report at a time (a year of reports does not fit in memory); another table than
            // the one read is written meanwhile, which SQLite allows.
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM problems ORDER BY report_id, rule_id")
            var reportID: String?
            var problems: [StoredFinding] = []
            func keep() throws {
                guard let reportID else { return }
                try db.execute(
                    sql: "UPDATE reports SET problems = ? WHERE report_id = ?",
                    arguments: [try Self.encode(problems), reportID])
            }
            while let row = try rows.next() {
                let id: String = row["report_id"]
                if id != reportID {
                    try keep()
                    (reportID, problems) = (id, [])
                }
                let clauses: String = row["clauses"]
                problems.append(
                    StoredFinding(
                        ruleID: row["rule_id"], status: row["status"], severity: row["severity"],
                        titleJa: row["title_ja"], titleEn: row["title_en"],
                        clauses: clauses.split(separator: "\n").map(String.init)))
            }
            try keep()
            // Reports of v2 without problem rows passed every rule (v2 kept the header and payload apart).
            try db.execute(sql: "UPDATE reports SET problems = '[]' WHERE problems IS NULL AND jws_header IS NOT NULL")
            try db.drop(table: "problems")
        }
        migrator.registerMigration("v4 update sightings") { db in
            // When the collector first saw each pending security update of each machine: a
            // machine's age is the earlier of its own record and this one.
            try db.create(table: "update_sightings", options: .withoutRowID) { table in
                table.column("key_id", .text).notNull()
                table.column("package", .text).notNull()
                table.column("installed", .text).notNull()
                table.column("first_seen", .integer).notNull()
                table.primaryKey(["key_id", "package", "installed"])
            }
            try db.alter(table: "machines") { table in
                table.add(column: "security_pending_since", .integer)
                // Of the updates (package and installed version) its latest report named.
                table.add(column: "sightings_digest", .text)
            }
        }
        migrator.registerMigration("v5 reported hostname") { db in
            // The name a machine's latest report gives, when it is not the enrolled one (shown beside it).
            try db.alter(table: "machines") { table in table.add(column: "reported_hostname", .text) }
        }
        migrator.registerMigration("v6 expected policy") { db in
            // The policy each machine must be checked with (a token may name one); whether each
            // report was made with it, on the machine's own root. Reports stored before are not
            // known to be full checks.
            try db.alter(table: "enrollment_tokens") { table in table.add(column: "policy_digest", .text) }
            try db.alter(table: "machines") { table in table.add(column: "policy_digest", .text) }
            try db.alter(table: "reports") { table in table.add(column: "full_check", .boolean) }
        }
        migrator.registerMigration("v7 token expiry") { db in
            // Tokens expire (7 days unless said otherwise) and can be revoked; older ones got a week.
            try db.alter(table: "enrollment_tokens") { table in
                table.add(column: "expires_at", .integer)
                table.add(column: "revoked_at", .integer)
            }
            try db.execute(sql: "UPDATE enrollment_tokens SET expires_at = created_at + 604800")
            // A removed machine's row stays (its reports refer to it), marked, out of every view.
            try db.alter(table: "machines") { table in table.add(column: "removed_at", .integer) }
        }
        migrator.registerMigration("v8 machine keys") { db in
            // A machine keeps its first key id as its id in the fleet; its keys, current and
            // retired, are rows of their own. A rotated-to key is pending until it signs a
            // stored report; the key before it stays good until then. A token may be issued to
            // give one machine a new key.
            try db.create(table: "machine_keys") { table in
                table.column("key_id", .text).primaryKey()
                table.column("machine", .text).notNull().references("machines")
                table.column("public_key", .text).notNull()
                table.column("added_at", .integer).notNull()
                table.column("retired_at", .integer)
            }
            try db.create(index: "machine_keys_by_machine", on: "machine_keys", columns: ["machine"])
            try db.execute(
                sql: """
                    INSERT INTO machine_keys (key_id, machine, public_key, added_at, retired_at)
                    SELECT key_id, key_id, public_key, enrolled_at, removed_at FROM machines
                    """)
            try db.alter(table: "machines") { table in table.add(column: "pending_key_id", .text) }
            try db.alter(table: "enrollment_tokens") { table in table.add(column: "machine", .text) }
        }
        migrator.registerMigration("v9 policies") { db in
            // The policies besides the built-in one whose full checks are accepted, with their
            // rule ids (one finding each makes a full check).
            try db.create(table: "policies") { table in
                table.column("digest", .text).primaryKey()
                table.column("name", .text).notNull()
                table.column("rules", .text).notNull()  // newline-separated
                table.column("added_at", .integer).notNull()
            }
        }
        return migrator
    }

    /// A write that is on disk when this returns (SQLite does not sync; see `WALSync`), so its
    /// caller may be told it is done: tokens, enrollments.
    func durableWrite<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        let result = try await database.write(updates)
        try await walSync.sync()
        return result
    }

    public func addEnrollmentToken(
        hash: String, now: Int, policyDigest: String?, expiresAt: Int, machine: String?
    ) async throws {
        try await durableWrite { db in
            try db.execute(
                sql: """
                    INSERT INTO enrollment_tokens (hash, created_at, policy_digest, expires_at, machine)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [hash, now, policyDigest, expiresAt, machine])
        }
    }

    public func enrollmentTokens() async throws -> [EnrollmentTokenRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM enrollment_tokens ORDER BY created_at DESC, hash").map { row in
                let hash: String = row["hash"]
                return EnrollmentTokenRecord(
                    id: String(hash.prefix(12)), createdAt: row["created_at"], expiresAt: row["expires_at"] ?? 0,
                    usedAt: row["used_at"], revokedAt: row["revoked_at"], policyDigest: row["policy_digest"],
                    machine: row["machine"])
            }
        }
    }

    public func revokeEnrollmentToken(id: String, now: Int) async throws -> Int {
        // Exactly a listed id: 12 hex digits, never a pattern.
        guard id.utf8.count == 12, id.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return 0 }
        return try await durableWrite { db in
            try db.execute(
                sql: """
                    UPDATE enrollment_tokens SET revoked_at = ?
                    WHERE substr(hash, 1, 12) = ? AND used_at IS NULL AND revoked_at IS NULL
                    """, arguments: [now, id])
            return db.changesCount
        }
    }

    /// Every outcome waits for a WAL sync that began after its transaction: a duplicate is
    /// acknowledged too, and its first copy may have been committed a moment ago, not yet synced.
    /// The writer meanwhile goes on with the next batch.
    public func store(_ report: StoredReport) async throws -> StoreOutcome {
        // Here, not on the single writer.
        let problems = try Self.compressed(report.problems)
        let outcome = try await reportWriter.submit((report, problems, UpdateSighting.digest(report.securityUpdates)))
        try await walSync.sync()
        return outcome
    }

    /// Reports arriving together are stored in one transaction, each in a savepoint of its own.
    private static func storeBatch(
        _ reports: [(report: StoredReport, problems: Data, sightings: String)],
        in database: DatabasePool
    ) throws -> [Result<StoreOutcome, any Error>] {
        try database.write { db in
            reports.map { report in
                Result {
                    var outcome = StoreOutcome.stored
                    try db.inSavepoint {
                        outcome = try store(
                            report.report, problems: report.problems, sightings: report.sightings, in: db)
                        return outcome == .stored ? .commit : .rollback
                    }
                    return outcome
                }
            }
        }
    }

    /// Statements are cached (parsed once per connection): this runs on the single writer, so
    /// its every microsecond is one the whole fleet waits for.
    private static func store(
        _ report: StoredReport, problems: Data, sightings: String, in db: Database
    ) throws -> StoreOutcome {
        let owner = try String.fetchOne(
            db.cachedStatement(sql: "SELECT key_id FROM reports WHERE report_id = ?"), arguments: [report.reportID])
        let machine =
            owner != nil
            ? nil
            : try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT m.last_sequence, m.sightings_digest, m.security_pending_since, m.policy_digest,
                            m.pending_key_id, m.hostname, k.public_key
                        FROM machine_keys k JOIN machines m ON m.key_id = k.machine
                        WHERE k.key_id = ? AND k.machine = ? AND k.retired_at IS NULL AND m.removed_at IS NULL
                        """),
                arguments: [report.signingKeyID, report.keyID])
        let admitted: ReportAdmission.Admitted
        switch ReportAdmission.decide(
            report, owner: owner,
            machine: machine.map {
                ReportAdmission.Machine(
                    lastSequence: $0["last_sequence"] ?? 0, pendingKeyID: $0["pending_key_id"],
                    policyDigest: $0["policy_digest"] ?? "")
            })
        {
        case .failure(let refused): return refused.outcome
        case .success(let decided): admitted = decided
        }
        guard let machine else { return .unknownMachine }
        if admitted.completesRotation {
            try completeRotation(
                machine: report.keyID, to: report.signingKeyID, publicKey: machine["public_key"],
                now: report.receivedAt, in: db)
        }
        var report = report
        report.fullCheck = admitted.fullCheck
        try db.cachedStatement(
            sql: """
                INSERT INTO reports (report_id, key_id, sequence, received_at, started_at, hostname, policy_id, verdict,
                                     full_check, problems, token, jws_header, jws_payload_zstd, jws_signature)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            report.reportID, report.keyID, report.sequence, report.receivedAt, report.startedAt,
            report.hostname, report.policyID, report.verdict, report.fullCheck, problems, "",
            report.signed.header, Data(report.signed.payload), report.signed.signature,
        ])
        // Only a full check changes the sightings (`SightingMerge`); the same updates as the
        // machine's previous one (most reports) need nothing read or written.
        let digest: String? = machine["sightings_digest"]
        let keptSince: Int? = machine["security_pending_since"]
        let (pendingSince, sightings) =
            !report.fullCheck
            ? (keptSince, digest)
            : digest == sightings ? (keptSince, sightings) : (try storeSightings(report, in: db), sightings)
        // The name shown stays the enrolled one; the name it reports, when it differs, is kept beside it.
        try db.cachedStatement(
            sql: """
                UPDATE machines SET last_sequence = ?, last_seen = ?, last_report_id = ?, security_pending_since = ?,
                    sightings_digest = ?, reported_hostname = ?
                WHERE key_id = ?
                """
        ).execute(arguments: [
            report.sequence, report.receivedAt, report.reportID, pendingSince, sightings,
            ReportAdmission.reportedHostname(report.hostname, enrolled: machine["hostname"]), report.keyID,
        ])
        return .stored
    }

    /// Applies `SightingMerge` and returns the oldest sighting the report names. The machine's
    /// sightings are read in one statement and only what changed is written: on the single
    /// writer, a report whose updates were all seen before costs one read.
    private static func storeSightings(_ report: StoredReport, in db: Database) throws -> Int? {
        var known: [String: [String: Int]] = [:]
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT package, installed, first_seen FROM update_sightings WHERE key_id = ?"),
            arguments: [report.keyID])
        while let row = try rows.next() { known[row["package"], default: [:]][row["installed"]] = row["first_seen"] }
        let merge = SightingMerge(known: known, reported: report.securityUpdates)
        for sighting in merge.writes {
            try db.cachedStatement(
                sql:
                    "INSERT OR REPLACE INTO update_sightings (key_id, package, installed, first_seen) VALUES (?, ?, ?, ?)"
            ).execute(arguments: [report.keyID, sighting.package, sighting.installed, sighting.firstSeen])
        }
        for stale in merge.deletes {
            try db.cachedStatement(
                sql: "DELETE FROM update_sightings WHERE key_id = ? AND package = ? AND installed = ?"
            ).execute(arguments: [report.keyID, stale.package, stale.installed])
        }
        return merge.oldest
    }

    public func reports(keyID: String) async throws -> [StoredReport] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reports WHERE key_id = ? ORDER BY sequence", arguments: [keyID])
                .map(Self.report)
        }
    }

    public func reportHeaders(keyID: String) async throws -> [ReportHeader] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT report_id, sequence, started_at, received_at, verdict, policy_id, full_check FROM reports
                    WHERE key_id = ? ORDER BY sequence
                    """, arguments: [keyID]
            ).map { row in
                ReportHeader(
                    reportID: row["report_id"], sequence: row["sequence"], startedAt: row["started_at"],
                    receivedAt: row["received_at"], verdict: row["verdict"], policyID: row["policy_id"],
                    fullCheck: row["full_check"] ?? false)
            }
        }
    }

    public func report(id: String) async throws -> StoredReport? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM reports WHERE report_id = ?", arguments: [id]).map(Self.report)
        }
    }

    public func fleet() async throws -> [MachineState] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.*, r.sequence AS r_sequence, r.started_at, r.received_at, r.verdict, r.policy_id, r.problems,
                        r.full_check
                    FROM machines m LEFT JOIN reports r ON r.report_id = m.last_report_id
                    WHERE m.removed_at IS NULL ORDER BY m.hostname, m.key_id
                    """
            ).map { row in
                let reportID: String? = row["last_report_id"]
                var problems: [StoredFinding] = []
                if let reportID {
                    problems =
                        try Self.decode(row["problems"] as DatabaseValue) ?? Row.fetchOne(
                            db, sql: "SELECT * FROM reports WHERE report_id = ?",
                            arguments: [reportID]
                        ).map(Self.report)?.problems ?? []
                }
                return MachineState(
                    machine: Self.machine(row), enrolledAt: row["enrolled_at"], lastSeen: row["last_seen"],
                    lastReport: reportID.map {
                        ReportHeader(
                            reportID: $0, sequence: row["r_sequence"], startedAt: row["started_at"],
                            receivedAt: row["received_at"], verdict: row["verdict"], policyID: row["policy_id"],
                            fullCheck: row["full_check"] ?? false)
                    },
                    problems: problems, securityPendingSince: row["security_pending_since"],
                    reportedHostname: row["reported_hostname"])
            }
        }
    }

    public func addAdminToken(hash: String, now: Int) async throws {
        try await durableWrite { db in
            try db.execute(sql: "INSERT INTO admin_tokens (hash, created_at) VALUES (?, ?)", arguments: [hash, now])
        }
    }

    public func isAdminToken(hash: String) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM admin_tokens WHERE hash = ?", arguments: [hash]) == true
        }
    }

    static func machine(_ row: Row) -> EnrolledMachine {
        EnrolledMachine(
            keyID: row["key_id"], publicKey: row["public_key"], machineID: row["machine_id"], hostname: row["hostname"],
            dmiSerial: row["dmi_serial"], lastSequence: row["last_sequence"], enrolledAt: row["enrolled_at"],
            policyDigest: row["policy_digest"] ?? "")
    }

    static func encode(_ problems: [StoredFinding]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(problems), as: UTF8.self)
    }

    /// A report's problems as stored since their JSON was compressed: a zstd frame (titles and
    /// clauses repeat; kept as text, a 1.6 kB request of compressible failures stored 1 MB).
    static func compressed(_ problems: [StoredFinding]) throws -> Data {
        let json = Array(try encode(problems).utf8)
        guard let frame = Zstd.compress(json) else {
            throw Unusable(description: "cannot compress a report's problems")
        }
        return Data(frame)
    }

    /// The most a stored problems frame may inflate to: 2,000 findings of the largest fields.
    static let largestProblems = 64 << 20

    /// nil when none were kept or the column is damaged: a zstd frame (a blob), or JSON text as
    /// stored before problems were compressed.
    private static func decode(_ problems: DatabaseValue) -> [StoredFinding]? {
        let json: [UInt8]
        switch problems.storage {
        case .blob(let frame):
            guard let inflated = Zstd.decompress(Array(frame), limit: largestProblems) else { return nil }
            json = inflated
        case .string(let text): json = Array(text.utf8)
        case .null, .int64, .double: return nil
        }
        return try? JSONDecoder().decode([StoredFinding].self, from: Data(json))
    }

    private static func report(_ row: Row) -> StoredReport {
        let payload: Data = row["jws_payload_zstd"] ?? Data()
        let legacy: String = row["token"] ?? ""
        let signed =
            row["jws_header"] == nil
            ? CompactToken(token: legacy) ?? CompactToken(header: "", payload: [], signature: "")
            : CompactToken(
                header: row["jws_header"] ?? "", payload: Array(payload), signature: row["jws_signature"] ?? "")
        return StoredReport(
            reportID: row["report_id"], keyID: row["key_id"], sequence: row["sequence"], receivedAt: row["received_at"],
            startedAt: row["started_at"], hostname: row["hostname"], policyID: row["policy_id"],
            verdict: row["verdict"],
            signed: signed, problems: decode(row["problems"] as DatabaseValue) ?? problems(in: signed),
            fullCheck: row["full_check"] ?? false)
    }

    /// The problems a signed report holds: for reports whose problems were not kept (schema v1)
    /// or are damaged, the signed report being the record.
    private static func problems(in signed: CompactToken) -> [StoredFinding] {
        guard let token = signed.token, let verified = try? JWS.verify(token),
            let json = try? ReportPayload.json(of: verified, limit: ReportPayload.largestReport),
            let report = try? IngestedReport(json: json)
        else { return [] }
        return report.problems
    }
}
