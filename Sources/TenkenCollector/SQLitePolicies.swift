import GRDB

/// The registered policies (`KnownPolicies`), a row each with its rule ids one per line.
extension SQLiteReportStore {
    public func addPolicy(_ policy: RegisteredPolicy) async throws {
        try await durableWrite { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO policies (digest, name, rules, added_at) VALUES (?, ?, ?, ?)",
                arguments: [policy.digest, policy.name, policy.rules.joined(separator: "\n"), policy.addedAt])
        }
    }

    public func policies() async throws -> [RegisteredPolicy] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM policies ORDER BY added_at, digest").map(Self.policy)
        }
    }

    public func policy(digest: String) async throws -> RegisteredPolicy? {
        try await database.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM policies WHERE digest = ?"), arguments: [digest]
            ).map(Self.policy)
        }
    }

    public func removePolicy(digest: String) async throws -> Bool {
        try await durableWrite { db in
            try db.execute(sql: "DELETE FROM policies WHERE digest = ?", arguments: [digest])
            return db.changesCount == 1
        }
    }

    private static func policy(_ row: Row) -> RegisteredPolicy {
        let rules: String = row["rules"]
        return RegisteredPolicy(
            digest: row["digest"], name: row["name"], rules: rules.split(separator: "\n").map(String.init),
            addedAt: row["added_at"])
    }
}
