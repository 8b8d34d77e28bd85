import ArgumentParser
import TenkenBase
import TenkenCollector
import TenkenCommandLine

/// `tenken-collector policies add|list|remove`: the policies besides the built-in one whose full
/// checks the collector accepts, each with its rules (`KnownPolicies`).
struct Policies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies",
        abstract: HelpText.pick(
            ja: "完全な点検として受け付けるポリシー (組み込み以外) の登録・一覧・削除。",
            en: "Register, list and remove the policies (besides the built-in one) whose full checks are accepted."),
        subcommands: [Add.self, List.self, Remove.self])

    /// A digest the collector knows: the built-in policy's or a registered one. A token or a
    /// machine set to any other could never send a full check.
    static func requireKnown(_ digest: String, in store: SQLiteReportStore) async throws {
        guard try await KnownPolicies(store: store).policy(digest) == nil else { return }
        throw CommandFailure(
            message: HelpText.pick(
                ja: "ポリシー \(digest) は登録されていません。先に tenken-collector policies add --report で登録してください",
                en: "policy \(digest) is not registered: register it first with tenken-collector policies add --report")
        )
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: HelpText.pick(
                ja: "そのポリシーでの点検報告 (tenken check --policy FILE --json の出力、または署名付き報告) から、ダイジェストと規則を登録する。",
                en: "Register a policy's digest and rules from a check made with it (the output of "
                    + "tenken check --policy FILE --json, or a signed report)."))
        @OptionGroup var database: DatabaseOption
        @OptionGroup var audit: AuditOption
        @Option(
            name: .long,
            help: .text(ja: "そのポリシーでの点検報告のファイル。", en: "A report of a check made with the policy."))
        var report: String

        func run() async throws {
            let bytes: [UInt8]
            do { bytes = try LocalFile.read(atPath: report, limit: ReportPayload.largestReport) } catch {
                throw CommandFailure(message: "\(report): \(error.message(in: HelpText.language))")
            }
            let policy: RegisteredPolicy
            do { policy = try RegisteredPolicy.described(by: bytes, now: Timestamp.seconds()) } catch {
                throw CommandFailure(
                    message: HelpText.pick(ja: "\(report): 使えない報告です (\(error))", en: "\(report): unusable (\(error))"))
            }
            guard policy.digest != KnownPolicies.builtIn.digest else {
                throw CommandFailure(
                    message: HelpText.pick(
                        ja: "組み込みのポリシーは登録しなくても受け付けます", en: "the built-in policy is accepted without registering it"))
            }
            try await database.store().addPolicy(policy)
            audit.log.record(
                AuditEvent(
                    .policyRegistered, .notice,
                    ja: "ポリシーを登録しました: \(policy.digest) (\(policy.rules.count) 規則)",
                    en: "policy registered: \(policy.digest) (\(policy.rules.count) rules)",
                    fields: [
                        ("TENKEN_POLICY_DIGEST", policy.digest), ("TENKEN_POLICY_ID", policy.name),
                        ("TENKEN_RULES", policy.rules.joined(separator: ",")),
                    ]))
            print(
                HelpText.pick(
                    ja: "登録しました: \(policy.digest) \(TerminalText.escaped(policy.name)) (\(policy.rules.count) 規則)",
                    en:
                        "registered: \(policy.digest) \(TerminalText.escaped(policy.name)) (\(policy.rules.count) rules)"
                ))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: HelpText.pick(
                ja: "受け付けるポリシーを表示する (ダイジェスト、名前、登録日時、規則)。",
                en: "Show the accepted policies (digest, name, registered, rules)."))
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let builtIn = HelpText.pick(ja: "組み込み", en: "built in")
            let policy = KnownPolicies.builtIn
            print([policy.digest, policy.name, builtIn, policy.rules.joined(separator: ",")].joined(separator: "\t"))
            for policy in try await database.store().policies() {
                print(
                    [
                        policy.digest, TerminalText.escaped(policy.name), Timestamp.japanTime(policy.addedAt),
                        TerminalText.escaped(policy.rules.joined(separator: ",")),
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: HelpText.pick(
                ja: "登録したポリシーを削除する (その後の報告は完全な点検とみなされない)。",
                en: "Remove a registered policy (reports of it are no longer full checks)."))
        @OptionGroup var database: DatabaseOption
        @OptionGroup var audit: AuditOption
        @Argument(help: .text(ja: "ポリシーのダイジェスト (sha256:…)。", en: "The policy's digest (sha256:...).")) var digest:
            String

        func run() async throws {
            guard try await database.store().removePolicy(digest: digest) else {
                throw CommandFailure(
                    message: HelpText.pick(ja: "登録されたポリシー \(digest) はありません", en: "no registered policy \(digest)"))
            }
            audit.log.record(
                AuditEvent(
                    .policyRemoved, .notice, ja: "ポリシーを削除しました: \(digest)", en: "policy removed: \(digest)",
                    fields: [("TENKEN_POLICY_DIGEST", digest)]))
            print(HelpText.pick(ja: "削除しました: \(digest)", en: "removed: \(digest)"))
        }
    }
}
