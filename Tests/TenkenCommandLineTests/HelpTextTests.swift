import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenCommandLine

/// Help in the environment's language, in process and as the programs print it.
@Suite("help text")
struct HelpTextTests {
    private func help(_ environment: [String: String]) throws -> String {
        try run(
            [Programs.tenken, "check", "--help"],
            environment: environment.merging(["PATH": "/usr/bin:/bin"]) { a, _ in a }
        ).output
    }

    @Test("--help is Japanese under a Japanese locale, English otherwise; LC_ALL wins over LANG")
    func languages() throws {
        #expect(try help(["LANG": "ja_JP.UTF-8"]).contains("ポリシーで点検する"))
        #expect(try help(["LANG": "C.UTF-8"]).contains("Check this machine (or a mounted root) against the policy."))
        #expect(try help(["LANG": "ja_JP.UTF-8", "LC_ALL": "C.UTF-8"]).contains("Check this machine"))
    }

    @Test("code points: every non-ASCII scalar as {U+XXXX}, at least four digits; ASCII untouched")
    func asCodePoints() {
        #expect(HelpText.asCodePoints("点検 check") == "{U+70B9}{U+691C} check")
        #expect(HelpText.asCodePoints("é😀") == "{U+00E9}{U+1F600}")
        #expect(HelpText.asCodePoints("plain -- ascii") == "plain -- ascii")
    }

    @Test("for the manual generator, non-ASCII text is carried as code points, ASCII as it is")
    func codePoints() throws {
        let text = try help(["LANG": "ja_JP.UTF-8", "TENKEN_HELP_CODE_POINTS": "1"])
        #expect(text.contains("{U+70B9}{U+691C}"))  // 点検
        #expect(!text.contains("点検"))
        #expect(
            try help(["LANG": "C.UTF-8", "TENKEN_HELP_CODE_POINTS": "1"]).contains("Ledger ({U+53F0}{U+5E33}) file"))
    }
}
