import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// Content detection on a real Debian desktop (browsers, office, mail, media, development tools,
/// a download manager, a podcast client) fails nothing: what can exchange files but is not made
/// for it only warns, named as dual-use. The root is built by scripts/desktop-root.sh (debootstrap,
/// about 4 GB, cached), so this runs only when TENKEN_DESKTOP_ROOT names it.
@Suite("no false positives on a desktop")
struct ContentFalsePositiveTests {
    static let root = ProcessInfo.processInfo.environment["TENKEN_DESKTOP_ROOT"].flatMap {
        FileManager.default.fileExists(atPath: $0 + "/.complete") ? $0 : nil
    }

    @Test(
        "a desktop-like Debian root fails no software rule; the dual-use packages it has only warn",
        .enabled(if: root != nil, "set TENKEN_DESKTOP_ROOT to a root built by scripts/desktop-root.sh"))
    func desktop() throws {
        let path = try #require(Self.root)
        let policy = try PolicyLoader.loadDefault()
            .selecting(["no-p2p-software", "no-personal-cloud-sync", "no-remote-access-software"]).get()
        let report = Check.run(root: try HostRoot(path), policy: policy, now: Timestamp.seconds())
        for finding in report.findings {
            #expect(
                finding.status != .fail, "\(finding.ruleID): \(finding.evidence.map { Messages(.en).describe($0) })")
            #expect(finding.errors.isEmpty, "\(finding.ruleID): \(finding.errors.map(\.en))")
        }
        let p2p = try #require(report.finding("no-p2p-software"))
        let dualUse = Set(p2p.evidence.filter { $0.dualUse == true }.map(\.item))
        #expect(dualUse.isSuperset(of: ["aria2", "gpodder", "vlc-plugin-bittorrent", "nbdkit"]), "\(dualUse)")
        #expect(p2p.evidence.allSatisfy { $0.dualUse == true }, "\(p2p.evidence.map { Messages(.en).describe($0) })")
        let content = try #require(report.coverage.first { $0.source == "content" })
        #expect(content.state == .complete, "\(content.gaps.map(\.message.en))")
        print("dual-use on the desktop root: \(dualUse.sorted().joined(separator: ", "))")
    }
}
