import ArgumentParser
import Dispatch
import FoundationEssentials
import TenkenAgent
import TenkenBase
import TenkenCommandLine
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// The service (packaging/tenken-agent.service): checks on a schedule and on changes, spools
/// signed reports and sends them to the collector.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: HelpText.pick(
            ja: "サービスとして動作: 定期的に、USB 接続時とパッケージ変更時に点検し、署名した報告をコレクターへ送る。",
            en: "Run as a service: check on a schedule, on USB insertion and on package changes; "
                + "send signed reports to the collector."
        )
    )

    @Option(name: .long, help: .text(ja: "点検するディレクトリ (ルート)。", en: "Directory whose facts are read.")) var root = "/"
    @Option(
        name: .long,
        help: .text(
            ja: "ポリシーの YAML ファイル (既定: tenken に組み込みのポリシー)。",
            en: "Policy YAML file (default: the policy built into tenken).")) var policy: String?
    @Option(
        name: .long,
        help: .text(
            ja: "指定したルールだけを点検する (ルール ID をカンマ区切り)。",
            en: "Check only these rules (comma-separated rule ids).")) var rules: String?
    @Option(
        name: .long,
        help: .text(
            ja: "台帳ファイル (既定: ルート内の /etc/tenken/ledger.yaml)。",
            en: "Ledger (台帳) file (default: /etc/tenken/ledger.yaml under the root).")) var ledger: String?
    @Option(
        name: .long,
        help: .text(
            ja: "端末の鍵・通し番号・スプール・登録情報の場所 (既定: /var/lib/tenken)。",
            en: "Machine key, sequence, spool and enrollment (default: /var/lib/tenken)."))
    var stateDir = MachineKey.defaultStateDirectory
    @Option(
        name: .long,
        help: .text(
            ja: "定期点検の間隔: 90s, 30m, 6h, 1d など。",
            en: "Time between scheduled checks: 90s, 30m, 6h, 1d.")) var interval = Interval(.seconds(6 * 3600))
    @Option(
        name: .long,
        help: .text(
            ja: "変更があってから点検を始めるまで待つ時間。",
            en: "Quiet time after a change before checking.")) var settle = Interval(.seconds(15))
    @Option(
        name: .long,
        help: .text(
            ja: "コレクターへの再送までの最初の待ち時間 (--retry-limit まで倍増)。",
            en: "First wait before retrying the collector; doubles up to --retry-limit.")) var retryFirst = Interval(
            .seconds(2))
    @Option(
        name: .long,
        help: .text(
            ja: "再送の待ち時間の上限。",
            en: "Longest wait between retries.")) var retryLimit = Interval(.seconds(300))
    @Flag(
        name: .long,
        help: .text(
            ja: "一度だけ点検して送信し終了する: すべて届けば 0、スプールに報告が残れば 2。",
            en: "Check once, send the spool, and exit: 0 when everything was delivered, 2 when reports remain spooled.")
    )
    var once = false
    @Flag(
        name: .long,
        help: .text(
            ja: "--once と併用: スプールにある報告を送るだけにする。",
            en: "With --once: only send what the spool holds.")) var sendOnly = false
    @Option(
        name: .long,
        help: .text(
            ja: "ログの言語: ja または en (既定: LANG から)。",
            en: "Language of the log: ja or en (default: from LANG).")) var lang: Language?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let log = AgentLog(language: lang ?? Language.fromEnvironment(environment), environment: environment)
        var configuration = Agent.Configuration()
        configuration.root = root
        configuration.stateDirectory = stateDir
        configuration.policyFile = policy
        configuration.rules = rules?.split(separator: ",").map(String.init)
        configuration.ledgerFile = ledger
        configuration.interval = interval.duration
        configuration.settle = settle.duration
        configuration.backoff = Backoff(first: retryFirst.duration, limit: retryLimit.duration)
        let agent = Agent(configuration: configuration, log: log, deviceEvents: SystemdDeviceMonitor())

        if once {
            if !sendOnly { agent.checkAndSpool() }
            switch await agent.deliver() {
            case .drained(let sent):
                log(.info, ja: "収集サーバーへ \(sent) 件送信しました", en: "sent \(sent) report(s) to the collector")
            case .retryLater(let sent, let reason, _):
                log(
                    .warning, ja: "\(sent) 件送信しましたが、残りは spool に保持します (\(reason))",
                    en: "sent \(sent) report(s); the rest stay spooled (\(reason))")
                throw ExitCode(2)
            }
            return
        }
        let service = Task { await agent.run() }
        // SIGTERM from systemd, SIGINT from a terminal: stop between steps; the spool is durable.
        let stops = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { service.cancel() }
            source.resume()
            return source
        }
        await service.value
        for stop in stops { stop.cancel() }
    }
}

extension Interval: ExpressibleByArgument {
    public init?(argument: String) { self.init(text: argument) }

    public var defaultValueDescription: String {
        let seconds = duration.components.seconds
        return seconds % 3600 == 0 ? "\(seconds / 3600)h" : "\(seconds)s"
    }
}
