import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("small parts")
struct SmallPartsTests {
    @Test("language from the environment, as gettext picks it")
    func language() {
        #expect(Language.fromEnvironment(["LANG": "ja_JP.UTF-8"]) == .ja)
        #expect(Language.fromEnvironment(["LANG": "ja_JP.UTF-8", "LC_ALL": "C"]) == .en)
        #expect(Language.fromEnvironment(["LC_MESSAGES": "ja_JP", "LANG": "en_US.UTF-8"]) == .ja)
        #expect(Language.fromEnvironment(["LC_ALL": "", "LANG": "ja"]) == .ja)
        #expect(Language.fromEnvironment([:]) == .en)
    }

    @Test("timestamps are RFC 3339 UTC")
    func timestamp() {
        #expect(Timestamp.format(seconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(seconds: 1_795_000_000, milliseconds: 7) == "2026-11-18T11:06:40.007Z")
    }

    @Test("invalid UTF-8 is shown byte by byte, valid text unchanged")
    func byteDisplay() {
        #expect(ByteText.display(Array("点検".utf8)[...]) == "点検")
        #expect(ByteText.display([0x61, 0xFF, 0xE7, 0x82, 0xB9, 0xE6][...]) == "a\\xff点\\xe6")
    }
}
