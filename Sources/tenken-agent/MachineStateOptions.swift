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

    @OptionGroup var messages: MessageLanguageOption

    var language: Language { messages.language }
}
