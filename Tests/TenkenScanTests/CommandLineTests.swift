import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// The real `tenken` binary, as a user runs it: exit codes, languages, JSON, error messages.
@Suite("tenken command line")
struct CommandLineTests {
    /// `swift test` builds the executable beside the test bundle.
    static let binary = Programs.tenken

    private func tenken(_ arguments: [String], language: String = "C.UTF-8") throws -> CommandResult {
        try run([Self.binary] + arguments, environment: ["LANG": language, "PATH": "/usr/bin:/bin"])
    }

    @Test("exit 0 compliant, 1 non-compliant, 2 could not check")
    func exitCodes() throws {
        let clean = try Fixture.copy("debian-clean")
        try clean.setClamAVBuild(hoursAgo: 2)
        #expect(try tenken(["check", "--root", clean.path]).status == 0)
        try clean.setClamAVBuild(hoursAgo: 72)
        #expect(try tenken(["check", "--root", clean.path]).status == 1)
        #expect(
            try tenken(["check", "--root", clean.path, "--rules", "no-p2p-software,reboot-not-pending"]).status == 0)
        #expect(try tenken(["check", "--root", clean.path, "--rules", "no-such-rule"]).status == 2)
        #expect(try tenken(["check", "--root", Fixture.path("workstation")]).status == 1)
        #expect(try tenken(["--root", Fixture.path("workstation")]).status == 1)  // check is the default
        let missing = try tenken(["check", "--root", "/nonexistent/root"])
        #expect(missing.status == 2)
        #expect(missing.error.contains("cannot open root"))
        #expect(try tenken(["check", "--bogus"]).status == 2)
        #expect(try tenken(["--version"]).output == TenkenVersion.current + "\n")
    }

    @Test("English and Japanese verdicts, from --lang or LANG")
    func languages() throws {
        let english = try tenken(["check", "--root", Fixture.path("workstation")])
        #expect(english.output.contains("Verdict: NON-COMPLIANT"))
        #expect(english.output.contains("✗ FAIL  [critical] no-p2p-software"))
        #expect(english.output.contains("deb package qbittorrent 4.5.2-3+deb12u1 (installed) — qBittorrent"))
        let japanese = try tenken(["check", "--root", Fixture.path("workstation")], language: "ja_JP.UTF-8")
        #expect(japanese.output.contains("判定: 不適合"))
        #expect(japanese.output.contains("ファイル交換 (P2P) ソフトウェア"))
        #expect(japanese.output.contains("根拠条項: 001 第6条7"))
        let forced = try tenken([
            "check", "--root", Fixture.path("debian-clean"), "--lang", "ja", "--rules", "no-p2p-software",
        ])
        #expect(forced.output.contains("判定: 適合"))
        #expect(try tenken(["check", "--lang", "fr"]).status == 2)
    }

    @Test("--json is one JSON document on stdout")
    func json() throws {
        let result = try tenken(["check", "--json", "--root", Fixture.path("workstation")])
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["verdict"] as? String == "non-compliant")
    }

    @Test("a broken policy file exits 2 with the file and line")
    func badPolicy() throws {
        let scratch = try ScratchTree()
        try scratch.write("bad.yaml", "id: x\nversion: 1\ntitle: {ja: a, en: b}\nrules:\n  - id: r\n    kind: shell\n")
        let result = try tenken([
            "check", "--policy", scratch.path + "/bad.yaml", "--root", Fixture.path("debian-clean"),
        ])
        #expect(result.status == 2)
        #expect(result.error.contains("bad.yaml: line 6"))
        let ja = try tenken(["check", "--policy", scratch.path + "/none.yaml"], language: "ja_JP.UTF-8")
        #expect(ja.status == 2)
        #expect(ja.error.contains("ポリシーを読み込めません"))
    }

    @Test("a status file the user may not read: error finding, exit 2, no crash", Needs.setpriv)
    func permissionDenied() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.setClamAVBuild(hoursAgo: 1)
        chmod(scratch.path + "/var/lib/dpkg/status", 0)
        // Root reads anything, so as root the check runs as nobody, as an unprivileged user would.
        let command =
            getuid() == 0
            ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Self.binary]
            : [Self.binary]
        let result = try run(command + ["check", "--json", "--root", scratch.path], environment: ["LANG": "C"])
        #expect(result.status == 2)
        #expect(result.output.contains("/var/lib/dpkg/status: permission denied"))
    }
}
