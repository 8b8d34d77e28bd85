import ArgumentParser
import FoundationEssentials
import TenkenBase
import TenkenCommandLine
import TenkenScan

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: HelpText.pick(
            ja: "この端末 (またはマウントしたルート) をポリシーで点検する。終了コード 0 適合、1 不適合、2 点検できず。",
            en: "Check this machine (or a mounted root) against the policy. "
                + "Exit 0 compliant, 1 non-compliant, 2 could not check."
        )
    )

    @Option(
        name: .long,
        help: .text(
            ja: "点検するディレクトリ (例: マウントしたディスクイメージ)。",
            en: "Directory whose facts are read, e.g. a mounted disk image."))
    var root: String = "/"

    @Option(
        name: .long,
        help: .text(
            ja: "ポリシーの YAML ファイル (既定: tenken に組み込みのポリシー)。",
            en: "Policy YAML file (default: the policy built into tenken)."))
    var policy: String?

    @Option(
        name: .long,
        help: .text(
            ja: "指定したルールだけを点検する (ルール ID をカンマ区切り)。",
            en: "Check only these rules (comma-separated rule ids)."))
    var rules: String?

    @Option(
        name: .long,
        help: .text(
            ja: "台帳ファイル (既定: ルート内の /etc/tenken/ledger.yaml)。",
            en: "Ledger (台帳) file (default: /etc/tenken/ledger.yaml under the root)."))
    var ledger: String?

    @Flag(name: .long, help: .text(ja: "報告を JSON で出力する。", en: "Print the report as JSON."))
    var json = false

    @Flag(
        name: .long,
        help: .text(
            ja: "JSON の報告にこの端末の Ed25519 鍵で署名する (JWS、EdDSA)。",
            en: "Sign the JSON report with this machine's Ed25519 key (JWS, EdDSA)."))
    var sign = false

    @Option(
        name: .long,
        help: .text(
            ja: "JSON の報告 (--sign なら JWS) をこのファイルにアトミックに書く。",
            en: "Write the JSON report (a JWS with --sign) to this file, atomically."))
    var out: String?

    @Option(
        name: .long,
        help: .text(
            ja: "端末の鍵・通し番号・スプールの場所 (既定: /var/lib/tenken)。",
            en: "Where the machine key, sequence and spool are kept (default: /var/lib/tenken)."))
    var stateDir: String = MachineKey.defaultStateDirectory

    @Flag(
        name: .long,
        help: .text(
            ja: "状態ディレクトリの内容キャッシュ (エージェントと共通) を使い、変わっていないプログラムは読み直さない。",
            en: "Use the state directory's content cache (the agent's): unchanged programs are not read again."))
    var cache = false

    @Flag(
        name: .long,
        help: .text(
            ja: "署名した報告をコレクターへ送るためスプールにも入れる。",
            en: "Also put the signed report in the spool for delivery to the collector."))
    var spool = false

    @Option(
        name: .long,
        help: .text(
            ja: "テキスト報告の言語: ja または en (既定: LANG から)。",
            en: "Language of the text report: ja or en (default: from LANG)."))
    var lang: Language?

    func run() throws {
        let language = lang ?? Language.fromEnvironment(ProcessInfo.processInfo.environment)
        var report: CheckReport
        do {
            let hostRoot = try HostRoot(root)
            let cacheDirectory = cache ? try StateDirectory(stateDir) : nil
            report = try Check.run(
                root: hostRoot, ledger: ledger.map { LedgerFile.load(file: $0) }, cacheDirectory: cacheDirectory
            ) {
                () throws(PolicyError) in
                try PolicyLoader.load(file: policy, rules: rules?.split(separator: ",").map(String.init))
            }
        } catch let error as PolicyError {
            throw CommandFailure(message: language == .ja ? "ポリシーを読み込めません: \(error)" : "cannot load policy: \(error)")
        } catch let error as HostReadError {
            throw CommandFailure(
                message: language == .ja
                    ? "ルートを開けません: \(error.message(in: .ja))"
                    : "cannot open root: \(error.message(in: .en))")
        }
        if spool && !sign {
            throw CommandFailure(message: language == .ja ? "--spool には --sign が必要です" : "--spool needs --sign")
        }
        var document = Array(try report.json()) + [0x0A]
        if sign {
            do {
                let signed = try ReportSigner.sign(report, stateDirectory: stateDir, spool: spool)
                report = signed.report
                document = Array(signed.token.utf8) + [0x0A]
            } catch {
                throw CommandFailure(message: language == .ja ? "署名できません: \(error)" : "cannot sign: \(error)")
            }
        }
        if let out {
            do { try AtomicFile.write(document, to: out) } catch {
                throw CommandFailure(message: error.message(in: language))
            }
        }
        // --json (or a signed report with nowhere else to go) prints the document; else the text.
        if json || (sign && out == nil) {
            FileDescriptorOutput.standardOutput.write(String(decoding: document, as: UTF8.self))
        } else {
            FileDescriptorOutput.standardOutput.write(TextReport(report, language: language).render())
        }
        if report.verdict.exitCode != 0 { throw ExitCode(report.verdict.exitCode) }
    }
}
