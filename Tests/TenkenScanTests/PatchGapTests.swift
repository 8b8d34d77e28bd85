import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// apt's files answer separate questions: a file that cannot be read is an error for the rule that
/// reads it, named, and changes nothing for the others.
@Suite("patch rules and the apt files they read")
struct PatchGapTests {
    static let rules = [
        "security-updates-applied", "other-updates-applied", "package-lists-fresh", "reboot-not-pending",
        "automatic-security-updates",
    ]

    private func check(_ root: String) throws -> CheckReport {
        let policy = try PolicyLoader.loadDefault().selecting(Self.rules).get()
        return Check.run(root: try HostRoot(root), policy: policy, now: Fixture.now)
    }

    @Test(
        "an unreadable apt file holds back only the rules that read it",
        arguments: [
            ("run/reboot-required.pkgs", ["reboot-not-pending"]),
            ("proc/sys/kernel/osrelease", ["reboot-not-pending"]),
            ("etc/apt/apt.conf.d/20auto-upgrades", ["automatic-security-updates"]),
            ("etc/apt/sources.list", ["security-updates-applied", "other-updates-applied"]),
        ])
    func gapConcernsItsRules(_ file: String, _ concerned: [String]) throws {
        let scratch = try Fixture.copy("workstation")
        let before = try check(scratch.path)
        // Root reads any file: a directory where a file belongs is unreadable to everyone.
        if FileManager.default.fileExists(atPath: scratch.path + "/" + file) { try scratch.remove(file) }
        try FileManager.default.createDirectory(atPath: scratch.path + "/" + file, withIntermediateDirectories: true)
        let after = try check(scratch.path)
        for id in Self.rules {
            let finding = try #require(after.finding(id))
            let earlier = try #require(before.finding(id))
            if concerned.contains(id) {
                // A violation seen anyway (a reboot flagged) still counts; nothing passes.
                #expect(finding.status != .pass && finding.status != .notApplicable, "\(id): \(finding.status)")
                #expect(finding.errors.contains { $0.en.hasPrefix("/" + file + ": ") }, "\(id): \(finding.errors)")
            } else {
                #expect(finding.status == earlier.status, "\(id)")
                #expect(finding.errors == earlier.errors, "\(id): \(finding.errors)")
            }
        }
    }

    @Test("no package lists: pending updates unknown (error), while the lists' age is the violation itself")
    func missingLists() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.remove("var/lib/apt/lists")
        let report = try check(scratch.path)
        #expect(report.finding("security-updates-applied")?.status == .error)
        let fresh = try #require(report.finding("package-lists-fresh"))
        #expect(fresh.status == .fail)
        #expect(fresh.errors.isEmpty)
        #expect(report.finding("reboot-not-pending")?.errors.isEmpty == true)
    }
}
