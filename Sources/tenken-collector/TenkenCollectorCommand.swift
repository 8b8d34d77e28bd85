import ArgumentParser
import TenkenBase
import TenkenCollector
import TenkenCommandLine

@main
struct TenkenCollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenken-collector",
        abstract: HelpText.pick(
            ja: "登録済み端末から署名付きの tenken 報告を HTTPS で受け取る。",
            en: "Receives signed tenken reports over HTTPS from enrolled machines."),
        version: TenkenVersion.current,
        subcommands: [
            Initialize.self, Token.self, Tokens.self, Machines.self, Policies.self, AdminToken.self, Serve.self,
        ]
    )

    static func main() async {
        await runAsMain(name: "tenken-collector")
    }

    struct Initialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: HelpText.pick(
                ja: "CA とサーバー証明書を作成する (または指定の PEM ファイルを使う)。",
                en: "Create a CA and a server certificate, or use the PEM files given."))
        @Option(
            name: .long,
            help: .text(
                ja: "ca.pem、server.pem とその鍵を置くディレクトリ。",
                en: "Directory for ca.pem, server.pem and their keys.")) var dir = "/etc/tenken-collector"
        @Option(
            name: .long,
            help: .text(
                ja: "エージェントがコレクターに接続するときの名前と IP アドレス。",
                en: "Names and IP addresses agents use to reach the collector.")) var host: [String] = [
                "localhost", "127.0.0.1",
            ]
        @Option(
            name: .long,
            help: .text(
                ja: "作成せずにこのサーバー証明書 (チェーン、PEM) を使う。",
                en: "Use this server certificate (chain, PEM) instead of creating one.")) var certificate: String?
        @Option(
            name: .long,
            help: .text(
                ja: "--certificate の秘密鍵 (PEM)。",
                en: "The private key (PEM) of --certificate.")) var key: String?
        @Option(
            name: .long,
            help: .text(
                ja: "--certificate についてエージェントが信頼する CA (PEM)。",
                en: "The CA (PEM) agents should trust for --certificate.")) var ca: String?

        func run() throws {
            let files = CertificateAuthority.Files(directory: dir)
            if certificate != nil || key != nil {
                guard let certificate, let key else {
                    throw CommandFailure(message: "--certificate and --key go together")
                }
                try CertificateAuthority.adopt(in: files, certificateChain: certificate, key: key, ca: ca)
                guard ca != nil else {
                    print(
                        "\(files.serverCertificate): in place; "
                            + "agents verify it with the system's CAs (tenken enroll without --ca)"
                    )
                    return
                }
            } else {
                try CertificateAuthority.create(in: files, hosts: host)
            }
            print("\(files.caCertificate): give this CA to agents (tenken enroll --ca)")
        }
    }

    /// Prints a new random token once; `keep` stores only its hash, and the audit log names it by
    /// the start of that hash.
    static func issueToken(
        database: DatabaseOption, audit: AuditOption, kind: String, details: [(String, String)] = [],
        keep: (SQLiteReportStore, String) async throws -> Void
    ) async throws {
        let token = CollectorApplication.newToken()
        let hash = CollectorApplication.tokenHash(token)
        try await keep(try database.store(), hash)
        let id = AuditEvent.tokenID(hash: hash)
        audit.log.record(
            AuditEvent(
                .tokenIssued, .notice, ja: "トークンを作成しました (\(kind)): \(id)", en: "token issued (\(kind)): \(id)",
                fields: [("TENKEN_TOKEN_ID", id), ("TENKEN_TOKEN_KIND", kind)] + details))
        print(token)
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: HelpText.pick(
                ja: "使い捨ての登録トークンを作成する。",
                en: "Create a one-time enrollment token."))
        @OptionGroup var database: DatabaseOption
        @Option(
            name: .long,
            help: .text(
                ja: "この端末を点検するポリシーのダイジェスト (tenken check --json の policy.digest)。既定: tenken に組み込みのポリシー。",
                en: "Digest of the policy the machine must be checked with (policy.digest of tenken check --json); "
                    + "default: the policy built into tenken.")) var policyDigest: String?
        @Option(
            name: .long,
            help: .text(
                ja: "トークンの有効日数。",
                en: "Days the token can be used.")) var validDays = 7
        @Option(
            name: .long,
            help: .text(
                ja: "この登録済み端末 (鍵ID) に新しい鍵を与えるトークンにする (再インストール、鍵の紛失)。",
                en: "Make it a token that gives this enrolled machine (key id) a new key (reinstalled, key lost)."))
        var machine: String?
        @OptionGroup var audit: AuditOption

        func validate() throws {
            guard (1...365).contains(validDays) else {
                throw ValidationError(
                    HelpText.pick(ja: "--valid-days は 1 から 365 です", en: "--valid-days is 1 to 365"))
            }
            if let policyDigest, !PolicyDigest.isWellFormed(policyDigest) {
                throw ValidationError(
                    HelpText.pick(
                        ja: "--policy-digest は sha256: に続く 64 桁の16進数です",
                        en: "--policy-digest is sha256: and 64 hex digits"))
            }
        }

        func run() async throws {
            if let policyDigest { try await Policies.requireKnown(policyDigest, in: try database.store()) }
            if let machine, try await database.store().machine(keyID: machine) == nil {
                throw CommandFailure(
                    message: HelpText.pick(ja: "登録済みの端末 \(machine) はありません", en: "no enrolled machine \(machine)"))
            }
            try await issueToken(
                database: database, audit: audit, kind: machine == nil ? "enrollment" : "new-key",
                details: [
                    ("TENKEN_POLICY_DIGEST", policyDigest ?? (machine == nil ? "default" : "unchanged")),
                    ("TENKEN_VALID_DAYS", String(validDays)),
                ] + (machine.map { [("TENKEN_MACHINE", $0)] } ?? [])
            ) {
                let now = Timestamp.seconds()
                try await $0.addEnrollmentToken(
                    hash: $1, now: now, policyDigest: policyDigest, expiresAt: now + validDays * 86_400,
                    machine: machine)
            }
        }
    }

    struct AdminToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "admin-token",
            abstract: HelpText.pick(
                ja: "ダッシュボード・API・CSV・/metrics 用のトークンを作成する (表示は一度だけ)。",
                en: "Create a token for the dashboard, the API, CSV and /metrics (shown once)."))
        @OptionGroup var database: DatabaseOption
        @OptionGroup var audit: AuditOption

        func run() async throws {
            try await issueToken(database: database, audit: audit, kind: "admin") {
                try await $0.addAdminToken(hash: $1, now: Timestamp.seconds())
            }
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: HelpText.pick(
                ja: "HTTPS (TLS 1.2 以上) で待ち受ける。",
                en: "Serve HTTPS (TLS 1.2+)."))
        @Option(
            name: .long,
            help: .text(
                ja: "init が書いたディレクトリ。",
                en: "Directory written by init.")) var dir = "/etc/tenken-collector"
        @OptionGroup var database: DatabaseOption
        @Option(name: .long, help: .text(ja: "待ち受けるアドレス。", en: "Address to listen on.")) var listen = "0.0.0.0"
        @Option(name: .long, help: .text(ja: "ポート。", en: "Port.")) var port = 8443
        @Option(
            name: .long,
            help: .text(
                ja: "報告がこの時間ないと「連絡なし」と表示する時間数。",
                en: "Hours without a report after which a machine is shown as silent.")) var silentHours = 24
        @Option(
            name: .long,
            help: .text(
                ja: "報告の日時がこのサーバーの時計より進んでいてよい秒数。",
                en: "Seconds a report may be dated ahead of this clock.")) var clockSkew = 300
        @Option(
            name: .long,
            help: .text(
                ja: "1 台の端末が 1 分間に送れる報告の数 (超えると 429 と Retry-After)。",
                en: "Reports one machine may send a minute (past it: 429 with Retry-After).")) var reportsPerMinute =
            MachineLimits().reportsPerMinute
        @Option(
            name: .long,
            help: .text(
                ja: "1 台の端末が 1 日 (UTC) に送れる報告のメガバイト数。",
                en: "Megabytes of reports one machine may send a day (UTC).")) var megabytesPerDay =
            MachineLimits().bytesPerDay >> 20
        @Option(
            name: .long,
            help: .text(
                ja: "1 台の端末が 1 日に行える鍵の更新の回数。",
                en: "Key rotations one machine may make a day.")) var rotationsPerDay = MachineLimits().rotationsPerDay
        @Option(
            name: .long,
            help: .text(
                ja: "1 つのアドレス (IPv6 は /64) から同時に開ける接続の数。",
                en: "Connections one address (an IPv6 /64) may hold open at once.")) var connectionsPerAddress = 64
        @OptionGroup var audit: AuditOption

        func validate() throws {
            guard reportsPerMinute > 0, (1...(1 << 20)).contains(megabytesPerDay), rotationsPerDay > 0,
                connectionsPerAddress > 0
            else {
                throw ValidationError(
                    HelpText.pick(
                        ja:
                            "--reports-per-minute、--megabytes-per-day、--rotations-per-day、--connections-per-address は 1 以上です",
                        en:
                            "--reports-per-minute, --megabytes-per-day, --rotations-per-day and --connections-per-address "
                            + "are at least 1"))
            }
        }

        func run() async throws {
            let files = CertificateAuthority.Files(directory: dir)
            var configuration = CollectorApplication.Configuration(
                host: listen, port: port, certificate: files.serverCertificate, privateKey: files.serverKey)
            configuration.silentAfterHours = silentHours
            configuration.maximumClockAhead = clockSkew
            configuration.machineLimits.reportsPerMinute = reportsPerMinute
            configuration.machineLimits.bytesPerDay = megabytesPerDay << 20
            configuration.machineLimits.rotationsPerDay = rotationsPerDay
            configuration.maximumConnectionsPerAddress = connectionsPerAddress
            let app = try CollectorApplication.make(
                store: try database.store(), configuration: configuration, audit: audit.log)
            try await app.runService()
        }
    }
}
