import ArgumentParser
import FoundationEssentials
import TenkenBase
import TenkenCommandLine

/// `--state-dir` and `--lang`, shared by the commands that act on this machine's enrollment.
struct MachineStateOptions: ParsableArguments {
    @Option(
        name: .long,
        help: .text(
            ja: "端末の鍵・スプール・登録情報のディレクトリ (既定: /var/lib/tenken)。",
            en: "Directory of the machine key, spool and enrollment (default: /var/lib/tenken)."))
    var stateDir: String = MachineKey.defaultStateDirectory

    @Option(
        name: .long,
        help: .text(
            ja: "メッセージの言語: ja または en (既定: LANG から)。",
            en: "Language of the messages: ja or en (default: from LANG)."))
    var lang: Language?

    /// --lang, else LANG.
    var language: Language { lang ?? Language.fromEnvironment(ProcessInfo.processInfo.environment) }
}
