import ArgumentParser
import FoundationEssentials
import TenkenBase

/// `--lang` for commands whose output is messages (not a report or a log, whose options say so):
/// the language given, else the environment's.
public struct MessageLanguageOption: ParsableArguments {
    @Option(
        name: .long,
        help: .text(
            ja: "メッセージの言語: ja または en (既定: LANG から)。",
            en: "Language of the messages: ja or en (default: from LANG)."))
    var lang: Language?

    public init() {}

    /// --lang, else LANG.
    public var language: Language { lang ?? Language.fromEnvironment(ProcessInfo.processInfo.environment) }
}
