import ArgumentParser
import TenkenBase
import TenkenCollector
import TenkenCommandLine

/// `tenken-collector tokens list|revoke`: the enrollment tokens, by the start of their hash (the
/// tokens themselves were shown once and are not kept).
struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: HelpText.pick(ja: "登録トークンの一覧と失効。", en: "List and revoke enrollment tokens."),
        subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: HelpText.pick(
                ja: "登録トークンを新しい順に表示する (ID、作成、期限、状態、ポリシー)。",
                en: "Show enrollment tokens, newest first (id, created, expires, state, policy)."))
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let now = Timestamp.seconds()
            let ja = HelpText.language == .ja
            for token in try await database.store().enrollmentTokens() {
                let state =
                    if let used = token.usedAt {
                        (ja ? "使用済み " : "used ") + Timestamp.japanTime(used)
                    } else if let revoked = token.revokedAt {
                        (ja ? "失効 " : "revoked ") + Timestamp.japanTime(revoked)
                    } else if token.expiresAt <= now {
                        ja ? "期限切れ" : "expired"
                    } else {
                        ja ? "未使用" : "unused"
                    }
                print(
                    [
                        token.id, Timestamp.japanTime(token.createdAt),
                        Timestamp.japanTime(token.expiresAt), state,
                        token.policyDigest ?? (ja ? "既定のポリシー" : "default policy"),
                    ].joined(separator: "\t") + (token.machine.map { (ja ? "\t新しい鍵: " : "\tnew key for ") + $0 } ?? ""))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: HelpText.pick(
                ja: "未使用の登録トークンを失効させる (ID は tokens list の 12 桁)。",
                en: "Revoke an unused enrollment token (its 12-digit id from tokens list)."))
        @OptionGroup var database: DatabaseOption
        @OptionGroup var audit: AuditOption
        @Argument(help: .text(ja: "トークンの ID。", en: "Token id.")) var id: String

        func run() async throws {
            guard try await database.store().revokeEnrollmentToken(id: id, now: Timestamp.seconds()) > 0 else {
                throw CommandFailure(
                    message: HelpText.pick(
                        ja: "未使用のトークン \(id) はありません", en: "no unused token \(id)"))
            }
            audit.log.record(
                AuditEvent(
                    .tokenRevoked, .notice, ja: "トークンを失効させました: \(id)", en: "token revoked: \(id)",
                    fields: [("TENKEN_TOKEN_ID", id)]))
            print(HelpText.pick(ja: "失効させました: \(id)", en: "revoked: \(id)"))
        }
    }
}

/// `tenken-collector machines list|remove`.
struct Machines: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "machines",
        abstract: HelpText.pick(
            ja: "登録済み端末の一覧・削除・点検ポリシーの変更。", en: "List and remove enrolled machines, set their policy."),
        subcommands: [List.self, Remove.self, SetPolicy.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: HelpText.pick(
                ja: "登録済み端末を表示する (鍵ID、ホスト名、machine-id、登録、最終受信、判定)。",
                en: "Show enrolled machines (key id, hostname, machine-id, enrolled, last seen, verdict)."))
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            for state in try await database.store().fleet() {
                print(
                    [
                        state.machine.keyID, TerminalText.escaped(state.machine.hostname),
                        TerminalText.escaped(state.machine.machineID), Timestamp.japanTime(state.enrolledAt),
                        state.lastSeen.map { Timestamp.japanTime($0) } ?? "-",
                        state.lastReport?.verdict ?? "-",
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: HelpText.pick(
                ja: "端末の登録を取り消す (鍵は受け付けなくなる。報告は記録として残る)。",
                en: "Remove a machine: its key is no longer accepted (its reports stay, for the record)."))
        @OptionGroup var database: DatabaseOption
        @OptionGroup var audit: AuditOption
        // A key id may begin with "-" (base64url): taken as it is, not as an option.
        @Argument(
            parsing: .allUnrecognized,
            help: .text(ja: "端末の鍵ID。", en: "The machine's key id.")) var keyIDs: [String]

        func validate() throws {
            guard keyIDs.count == 1 else {
                throw ValidationError(HelpText.pick(ja: "鍵IDを1つ指定してください", en: "give one key id"))
            }
        }

        func run() async throws {
            guard try await database.store().removeMachine(keyID: keyIDs[0], now: Timestamp.seconds()) else {
                throw CommandFailure(
                    message: HelpText.pick(ja: "登録済みの端末 \(keyIDs[0]) はありません", en: "no enrolled machine \(keyIDs[0])"))
            }
            audit.log.record(
                AuditEvent(
                    .machineRemoved, .notice, ja: "端末を削除しました: \(keyIDs[0])", en: "machine removed: \(keyIDs[0])",
                    fields: [("TENKEN_KEY_ID", keyIDs[0])]))
            print(HelpText.pick(ja: "削除しました: \(keyIDs[0])", en: "removed: \(keyIDs[0])"))
        }
    }

    struct SetPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-policy",
            abstract: HelpText.pick(
                ja: "端末を点検するポリシーを変える (以後の報告から。default は tenken に組み込みのポリシー)。",
                en: "Set the policy a machine must be checked with, from its next report on "
                    + "(default: the policy built into tenken)."))
        @OptionGroup var database: DatabaseOption
        @OptionGroup var audit: AuditOption
        // A key id may begin with "-" (base64url): taken as it is, not as an option.
        @Argument(
            parsing: .allUnrecognized,
            help: .text(
                ja: "端末の鍵IDとポリシーのダイジェスト (sha256:…) または default。",
                en: "The machine's key id, and the policy digest (sha256:...) or default.")) var values: [String]

        var digest: String { values.last == "default" ? PolicyDigest.embeddedDefault : values.last ?? "" }

        func validate() throws {
            guard values.count == 2 else {
                throw ValidationError(
                    HelpText.pick(ja: "鍵IDとダイジェストを指定してください", en: "give a key id and a digest"))
            }
            guard PolicyDigest.isWellFormed(digest) else {
                throw ValidationError(
                    HelpText.pick(
                        ja: "ダイジェストは sha256: に続く 64 桁の16進数か default です",
                        en: "the digest is sha256: and 64 hex digits, or default"))
            }
        }

        func run() async throws {
            let keyID = values[0]
            try await Policies.requireKnown(digest, in: try database.store())
            guard try await database.store().setPolicy(keyID: keyID, digest: digest) else {
                throw CommandFailure(
                    message: HelpText.pick(ja: "登録済みの端末 \(keyID) はありません", en: "no enrolled machine \(keyID)"))
            }
            audit.log.record(
                AuditEvent(
                    .policyChanged, .notice, ja: "点検ポリシーを変更しました: \(keyID) → \(digest)",
                    en: "policy changed: \(keyID) → \(digest)",
                    fields: [("TENKEN_KEY_ID", keyID), ("TENKEN_POLICY_DIGEST", digest)]))
            print(HelpText.pick(ja: "変更しました: \(keyID) \(digest)", en: "set: \(keyID) \(digest)"))
        }
    }
}
