import FoundationEssentials
import GRDB

/// Where the collector keeps machines, enrollment tokens and reports. SQLite (GRDB, WAL) is the
/// embedded default; a PostgreSQL implementation goes behind the same protocol.
public protocol ReportStore: Sendable {
    func addEnrollmentToken(hash: String, now: Int) async throws
    /// Marks the token used and binds the key; false when the token is unknown or already used.
    func enroll(tokenHash: String, keyID: String, publicKey: String, machineID: String, hostname: String, now: Int) async throws -> Bool
    func machine(keyID: String) async throws -> EnrolledMachine?
    /// Stores a report whose signature was verified: `.stored`, `.duplicate` (same report id:
    /// acknowledge again), or `.replayed` (sequence not above the last one).
    func store(_ report: StoredReport) async throws -> StoreOutcome
    func reports(keyID: String) async throws -> [StoredReport]
}

public struct EnrolledMachine: Sendable, Equatable {
    public let keyID: String
    public let publicKey: String
    public let machineID: String
    public let hostname: String
    public let lastSequence: Int
}

public struct StoredReport: Sendable, Equatable {
    public let reportID: String
    public let keyID: String
    public let sequence: Int
    public let receivedAt: Int
    public let verdict: String
    public let token: String
}

public enum StoreOutcome: Sendable, Equatable { case stored, duplicate, replayed }

public final class SQLiteReportStore: ReportStore {
    private let database: DatabasePool

    public init(path: String) throws {
        // /var/lib/tenken-collector does not exist before the first run; reports stay private.
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try FileManager.default.createDirectory(atPath: String(path[..<slash]), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        database = try DatabasePool(path: path)
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
        try migrator.migrate(database)
    }

    public func addEnrollmentToken(hash: String, now: Int) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO enrollment_tokens (hash, created_at) VALUES (?, ?)", arguments: [hash, now])
        }
    }

    public func enroll(tokenHash: String, keyID: String, publicKey: String, machineID: String, hostname: String, now: Int) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE enrollment_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL", arguments: [now, tokenHash])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: """
                INSERT INTO machines (key_id, public_key, machine_id, hostname, enrolled_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(key_id) DO UPDATE SET machine_id = excluded.machine_id, hostname = excluded.hostname
                """, arguments: [keyID, publicKey, machineID, hostname, now])
            return true
        }
    }

    public func machine(keyID: String) async throws -> EnrolledMachine? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM machines WHERE key_id = ?", arguments: [keyID]).map { row in
                EnrolledMachine(keyID: row["key_id"], publicKey: row["public_key"], machineID: row["machine_id"],
                                hostname: row["hostname"], lastSequence: row["last_sequence"])
            }
        }
    }

    public func store(_ report: StoredReport) async throws -> StoreOutcome {
        try await database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM reports WHERE report_id = ?", arguments: [report.reportID]) == true {
                return .duplicate
            }
            let last = try Int.fetchOne(db, sql: "SELECT last_sequence FROM machines WHERE key_id = ?", arguments: [report.keyID]) ?? 0
            guard report.sequence > last else { return .replayed }
            try db.execute(sql: "INSERT INTO reports (report_id, key_id, sequence, received_at, verdict, token) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [report.reportID, report.keyID, report.sequence, report.receivedAt, report.verdict, report.token])
            try db.execute(sql: "UPDATE machines SET last_sequence = ?, last_seen = ? WHERE key_id = ?",
                           arguments: [report.sequence, report.receivedAt, report.keyID])
            return .stored
        }
    }

    public func reports(keyID: String) async throws -> [StoredReport] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reports WHERE key_id = ? ORDER BY sequence", arguments: [keyID]).map { row in
                StoredReport(reportID: row["report_id"], keyID: row["key_id"], sequence: row["sequence"],
                             receivedAt: row["received_at"], verdict: row["verdict"], token: row["token"])
            }
        }
    }
}
