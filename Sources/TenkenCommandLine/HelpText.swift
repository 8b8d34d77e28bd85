import ArgumentParser
import FoundationEssentials
import TenkenBase

/// Help (`--help`, usage, the manual pages generated from it) in the language of the
/// environment, picked as the reports pick theirs: LC_ALL, then LC_MESSAGES, then LANG.
/// Chosen once, at the first help text: argument-parser reads help while it parses.
public enum HelpText {
    public static let language = Language.fromEnvironment(ProcessInfo.processInfo.environment)

    public static func pick(ja: String, en: String) -> String {
        let text = language == .ja ? ja : en
        return codePointsForManual ? asCodePoints(text) : text
    }

    /// Set while packaging/build-deb.sh generates the manual pages: argument-parser's manual
    /// generator drops every non-ASCII character (all of the Japanese, and 点検 or 台帳 in the
    /// English), so the help carries them as `{U+70B9}` and the script turns those into roff's
    /// `\[u70B9]`.
    static let codePointsForManual = ProcessInfo.processInfo.environment["TENKEN_HELP_CODE_POINTS"] != nil

    static func asCodePoints(_ text: String) -> String {
        var ascii = ""
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                ascii.unicodeScalars.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                ascii += "{U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
            }
        }
        return ascii
    }
}

extension ArgumentHelp {
    /// An option's or argument's help in both languages: `help: .text(ja: "…", en: "…")`.
    public static func text(ja: String, en: String) -> ArgumentHelp { ArgumentHelp(HelpText.pick(ja: ja, en: en)) }
}
