import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// Hiding a thing must not turn a check into a pass: what a source could not read makes the
/// rules that depend on it `error` (verdict incomplete), naming what was missed.
@Suite("never a silent pass")
struct IncompleteTests {
    static let software = ["no-p2p-software", "no-personal-cloud-sync", "no-remote-access-software"]

    private func check(_ root: String, rules: [String] = software) throws -> CheckReport {
        let policy = try PolicyLoader.loadDefault().selecting(rules).get()
        return Check.run(root: try HostRoot(root), policy: policy, now: Fixture.now)
    }

    /// `tenken check --json` as nobody when the tests run as root (root reads everything).
    private func checkAsNobody(_ root: String, rules: [String] = software) throws -> (Int32, CheckReport) {
        let user = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        let result = try run(
            user + [Programs.tenken, "check", "--json", "--root", root, "--rules", rules.joined(separator: ",")])
        return (result.status, try JSONDecoder().decode(CheckReport.self, from: Data(result.output.utf8)))
    }

    @Test("a P2P client in a directory the checker cannot read: error naming it, not a pass", Needs.setpriv)
    func unreadableSubdirectory() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("opt/hidden/tool/qbittorrent", "", mode: 0o755)
        let (baseline, _) = try checkAsNobody(scratch.path)
        #expect(baseline == 1, "readable, the client is found")
        chmod(scratch.path + "/opt/hidden", 0o000)
        defer { chmod(scratch.path + "/opt/hidden", 0o755) }
        let (status, report) = try checkAsNobody(scratch.path)
        #expect(status == 2)
        #expect(report.verdict == .incomplete)
        let finding = try #require(report.finding("no-p2p-software"))
        #expect(finding.status == .error)
        #expect(finding.errors.contains { $0.en == "/opt/hidden: permission denied" }, "\(finding.errors)")
    }

    @Test("a walk that reaches its bound is incomplete, naming where it stopped; a violation found still fails")
    func walkLimit() throws {
        let scratch = try Fixture.copy("debian-clean")
        // The walk counts each directory's "." and ".." as entries too: three times the count
        // of everything is more than the walk meets outside one directory.
        let others = 3 * FileManager.default.enumerator(atPath: scratch.path)!.allObjects.count
        // More files in one directory than the rest of the root holds: in whatever order the
        // walk meets the root's directories, the bound falls in this one.
        for number in 0..<(others + 200) { try scratch.write("home/alice/big/file-\(number)", "") }
        let limit = others + 100
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        func findings() throws -> [Finding] {
            let facts = HostFacts.collect(from: try HostRoot(scratch.path)) { () throws(Never) in
                var request = policy.factRequest
                request.walkEntryLimit = limit
                return request
            }
            #expect(facts.coverage.first { $0.source == "files" }?.gaps.map(\.kind) == [.cutShort])
            return Evaluator.evaluate(policy, facts: facts, now: Fixture.now)
        }
        let quiet = try #require(try findings().first)
        #expect(quiet.status == .error)
        #expect(quiet.errors.map(\.en) == ["/home/alice/big: stopped after \(limit) entries"])
        // An installed client is a violation whatever the walk missed.
        var status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        status += "\nPackage: qbittorrent\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.5.2-3\n"
        status += "Maintainer: Debian <debian@example.org>\nDescription: client\n"
        try scratch.write("var/lib/dpkg/status", status)
        let found = try #require(try findings().first)
        #expect(found.status == .fail)
        #expect(found.errors.map(\.en) == ["/home/alice/big: stopped after \(limit) entries"])
    }

    @Test(
        "a Debian root whose dpkg database is gone, empty or a link out of the root: error for every package rule",
        arguments: ["removed", "empty", "link out"])
    func debianWithoutStatus(_ damage: String) throws {
        let scratch = try Fixture.copy("debian-clean")
        let status = scratch.path + "/var/lib/dpkg/status"
        try FileManager.default.removeItem(atPath: status)
        switch damage {
        case "empty": try scratch.write("var/lib/dpkg/status", "")
        case "link out":
            try FileManager.default.createSymbolicLink(atPath: status, withDestinationPath: "/../../../etc/x")
        default: break
        }
        let report = try check(scratch.path, rules: Self.software + ["security-updates-applied", "reboot-not-pending"])
        #expect(report.verdict == .incomplete)
        for finding in report.findings {
            #expect(finding.status == .error, "\(finding.ruleID)")
            #expect(
                finding.errors.contains { $0.en.contains("/var/lib/dpkg/status") },
                "\(finding.ruleID): \(finding.errors)")
        }
    }

    @Test("a Windows P2P client installed per user under Wine, nine levels below drive_c, is found")
    func winePerUser() throws {
        let scratch = try Fixture.copy("debian-clean")
        let program = "home/alice/.wine/drive_c/users/alice/AppData/Local/Programs/Winny/2.0b7/bin/Winny.exe"
        try scratch.write(program, "", mode: 0o644)
        let finding = try #require(try check(scratch.path).finding("no-p2p-software"))
        #expect(finding.status == .fail)
        #expect(finding.evidence.contains { $0.item == "/" + program && $0.software == "Winny" }, "\(finding.evidence)")
    }

    @Test("a pass proven by what was seen stands beside an incomplete walk; one that found nothing does not")
    func provenPass() throws {
        let scratch = try Fixture.copy("debian-clean")
        for number in 0..<60 { try scratch.write("home/alice/file-\(number)", "") }
        let policy = try PolicyLoader.loadDefault().selecting(["antivirus-installed", "no-p2p-software"]).get()
        let facts = HostFacts.collect(from: try HostRoot(scratch.path)) { () throws(Never) in
            var request = policy.factRequest
            request.walkEntryLimit = 50
            return request
        }
        let findings = Evaluator.evaluate(policy, facts: facts, now: Fixture.now)
        #expect(findings.first { $0.ruleID == "antivirus-installed" }?.status == .pass)
        #expect(findings.first { $0.ruleID == "no-p2p-software" }?.status == .error)
    }

    @Test("a root that is not Debian at all has no package database to miss, even with dpkg installed")
    func notDebian() throws {
        let scratch = try ScratchTree()
        try scratch.write("etc/os-release", "ID=fedora\nID_LIKE=\"rhel centos\"\n")
        try scratch.write("usr/bin/dpkg", "", mode: 0o755)
        let report = try check(scratch.path)
        #expect(report.finding("no-p2p-software")?.status == .pass)
        #expect(report.coverage.first { $0.source == "dpkg" }?.state == .limited)
    }

    @Test("control characters in names from the machine are escaped in the text report, as in the JSON")
    func controlCharacters() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("etc/hostname", "pc\u{1B}]0;owned\u{07}\n")
        try scratch.write("home/alice/Downloads/qBittorrent-\u{1B}[2J\r\u{202E}x.AppImage", "", mode: 0o755)
        let report = try check(scratch.path)
        let text = TextReport(report, language: .en).render()
        #expect(text.contains("Host: pc\\x1b]0;owned\\x07"))
        #expect(text.contains("qBittorrent-\\x1b[2J\\x0d\\u{202e}x.AppImage"), "\(text)")
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x0D || $0.value == 0x202E })
        #expect(TerminalText.escaped("a\u{85}b\u{7F}\tc") == "a\\u{85}b\\x7f\\x09c")
        #expect(TerminalText.escaped("点検 ok") == "点検 ok")
    }
}
