import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// The registry of fact sources and the coverage it reports: what each source read, and where
/// it fell short.
@Suite("fact sources and coverage")
struct CoverageTests {
    @Test("every source has exactly one declaration, in the enum's order, and a name of its own")
    func registry() {
        #expect(FactSourceRegistry.all.map(\.source) == FactSource.allCases)
        #expect(Set(FactSourceRegistry.all.map(\.name)).count == FactSource.allCases.count)
        for declaration in FactSourceRegistry.all {
            #expect(!declaration.produces.isEmpty, "\(declaration.name) says what it fills")
            #expect(FactSourceRegistry.declaration(of: declaration.source).stage == declaration.stage)
        }
        // The package stage runs before the request is known: it cannot depend on one.
        #expect(FactSourceRegistry.all.filter { $0.stage == .packages }.allSatisfy { $0.activation == .always })
        // What a background thread read is taken over only through its source's `adopt`.
        for declaration in FactSourceRegistry.all where declaration.stage.isBackground {
            #expect(declaration.adopt != nil, "\(declaration.name) runs on another thread and adopts nothing")
        }
    }

    @Test("a source comes after the sources it needs, in a stage that has them by then")
    func needsComeFirst() {
        func rank(_ stage: FactSourceDeclaration.Stage) -> Int {
            switch stage {
            case .packages: return 0
            case .host: return 1
            case .afterPackages: return 2
            case .besidePackages: return 2
            }
        }
        let order = FactSourceRegistry.all.map(\.source)
        for declaration in FactSourceRegistry.all {
            for needed in declaration.needs {
                let other = FactSourceRegistry.declaration(of: needed)
                let available =
                    other.stage == .packages
                    ? declaration.stage != .packages && declaration.stage != .host
                    : rank(other.stage) < rank(declaration.stage)
                        || (other.stage == declaration.stage
                            && order.firstIndex(of: needed)! < order.firstIndex(of: declaration.source)!)
                #expect(available, "\(declaration.name) needs \(needed), which is not read before it")
            }
        }
    }

    @Test("a report made before coverage was reported still reads, with none")
    func reportWithoutCoverage() throws {
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        let report = Check.run(root: try Fixture.root("debian-clean"), policy: policy, now: Fixture.now)
        var object = try #require(try JSONSerialization.jsonObject(with: try report.json()) as? [String: Any])
        object["coverage"] = nil
        let old = try JSONSerialization.data(withJSONObject: object)
        let decoded = try JSONDecoder().decode(CheckReport.self, from: old)
        #expect(decoded.coverage.isEmpty)
        #expect(decoded.findings == report.findings)
    }

    @Test("a source no rule asks for is not read and says so; one that is read is complete on a clean root")
    func requestedOnly() throws {
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        let report = Check.run(root: try Fixture.root("debian-clean"), policy: policy, now: Fixture.now)
        let states = Dictionary(uniqueKeysWithValues: report.coverage.map { ($0.source, $0.state) })
        #expect(states["antivirus"] == .notRequested)
        #expect(states["sshd"] == .notRequested)
        #expect(states["devices"] == .notRequested)
        // Forbidden software is also known by its Debian tags (apt's lists) and its content.
        for source in ["dpkg", "snap", "identity", "files", "flatpak", "sockets", "paths", "content", "apt"] {
            #expect(states[source] == .complete, "\(source): \(String(describing: states[source]))")
        }
        #expect(report.coverage.map(\.source) == FactSource.allCases.map(\.rawValue))
    }

    @Test(
        "the whole default policy reads a desktop-like root and a clean one completely",
        arguments: [
            "workstation", "debian-clean",
        ])
    func fixturesReadCompletely(_ fixture: String) throws {
        let report = Check.run(
            root: try Fixture.root(fixture), policy: try PolicyLoader.loadDefault(), now: Fixture.now)
        let unread = report.coverage.filter { $0.state == .incomplete || $0.state == .limited }
        #expect(unread.isEmpty, "\(unread.map { ($0.source, $0.gaps.map(\.path)) })")
        // (A ledger missing from the workstation is an error of configuration, not of reading.)
    }

    @Test("a rule whose source was not read is an error, never a pass")
    func unreadSourceIsError() throws {
        let policy = try PolicyLoader.loadDefault().selecting(["security-updates-applied", "no-p2p-software"]).get()
        // Facts collected without the policy's request: apt was never read.
        let facts = HostFacts.collect(from: try Fixture.root("debian-clean"))
        let findings = Evaluator.evaluate(policy, facts: facts, now: Fixture.now)
        let patches = try #require(findings.first { $0.ruleID == "security-updates-applied" })
        #expect(patches.status == .error)
        #expect(patches.errors.first?.en.contains("(apt) were not read") == true)
        let p2p = try #require(findings.first { $0.ruleID == "no-p2p-software" })
        #expect(p2p.status == .error)
        #expect(p2p.errors.first?.en.contains("(apt, content) were not read") == true)
    }

    @Test("a home whose name is not UTF-8 is walked: a client in it fails the rule, shown escaped")
    func homeNamedInLatin1() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("home/b\u{FF}d/Documents/tools/deep/qbittorrent", "", mode: 0o755)
        try scratch.write("home/b\u{FF}d/.local/share/flatpak/app/com.dropbox.Client/current/files", "")
        // FileManager writes U+00FF as UTF-8; rename to the raw byte 0xFF with rename(2).
        let raw: [CChar] =
            Array((scratch.path + "/home/b").utf8CString.dropLast()) + [CChar(bitPattern: 0xFF), 0x64, 0]
        #expect(rename(scratch.path + "/home/b\u{FF}d", raw) == 0)
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software", "no-personal-cloud-sync"]).get()
        let report = Check.run(root: try HostRoot(scratch.path), policy: policy, now: Fixture.now)
        #expect(report.coverage.first { $0.source == "files" }?.state == .complete)
        let p2p = try #require(report.finding("no-p2p-software"))
        #expect(p2p.status == .fail)
        #expect(p2p.evidence.map(\.item) == ["/home/b\\xffd/Documents/tools/deep/qbittorrent"])
        let cloud = try #require(report.finding("no-personal-cloud-sync"))
        #expect(cloud.evidence.contains { $0.source == .flatpak && $0.detail == "/home/b\\xffd" }, "\(cloud.evidence)")
        let text = TextReport(report, language: .en).render()
        #expect(text.contains("/home/b\\xffd/Documents/tools/deep/qbittorrent"))
    }

    @Test(
        "an unreadable program directory is a gap with its path; a damaged dpkg status is an incomplete source",
        Needs.setpriv)
    func unreadableAndDamaged() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("opt/hidden/tool/qbittorrent", "", mode: 0o755)
        chmod(scratch.path + "/opt/hidden", 0o000)
        defer { chmod(scratch.path + "/opt/hidden", 0o755) }
        var status = try scratch.read("var/lib/dpkg/status")
        status += Array("Package: broken\nVersion 1.0\n\n".utf8)
        try scratch.write("var/lib/dpkg/status", status)
        let result = try run([
            "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            Programs.tenken, "check", "--root", scratch.path, "--rules", "no-p2p-software", "--json",
        ])
        let report = try JSONDecoder().decode(CheckReport.self, from: Data(result.output.utf8))
        let files = try #require(report.coverage.first { $0.source == "files" })
        #expect(files.gaps.contains { $0.kind == .unreadable && $0.path == "/opt/hidden" }, "\(files.gaps)")
        let dpkg = try #require(report.coverage.first { $0.source == "dpkg" })
        #expect(dpkg.state == .incomplete)
        #expect(dpkg.gaps.allSatisfy { $0.kind == .damaged && $0.path == DpkgSource.statusPath })
    }
}
