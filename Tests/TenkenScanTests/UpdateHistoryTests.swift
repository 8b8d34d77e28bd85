import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// An update's age is its own: when tenken first saw it pending, kept in the state directory's
/// update history. An unrelated upgrade, a newer candidate, emptied lists or a deleted history
/// never make an old update young; what is not known fails a security rule.
@Suite("update ages")
struct UpdateHistoryTests {
    private static let rules = ["security-updates-applied", "other-updates-applied"]
    private static let day = 86_400
    private let scratch: ScratchTree
    private let stateTree: ScratchTree
    private let state: StateDirectory

    init() throws {
        scratch = try Fixture.copy("workstation")
        stateTree = try ScratchTree()
        state = try StateDirectory(stateTree.path + "/state")
    }

    private func finding(_ day: Int, cache: Bool = true, rule: String = "security-updates-applied") throws -> Finding {
        let policy = try PolicyLoader.loadDefault().selecting(Self.rules).get()
        let report = Check.run(
            root: try HostRoot(scratch.path), policy: policy, now: Fixture.now + day * Self.day,
            cacheDirectory: cache ? state : nil)
        return try #require(report.finding(rule))
    }

    private func note(_ finding: Finding, _ package: String) -> String {
        finding.evidence.first { $0.source == .update && $0.item == package }?.note?.en ?? ""
    }

    /// Sets the installed version of `package` in the root's dpkg status.
    private func install(_ package: String, _ version: String) throws {
        let status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        var stanzas = status.components(separatedBy: "\n\n")
        let index = try #require(stanzas.firstIndex { $0.hasPrefix("Package: \(package)\n") })
        stanzas[index] = stanzas[index].replacing(/Version: [^\n]+/, with: "Version: \(version)")
        try scratch.write("var/lib/dpkg/status", stanzas.joined(separator: "\n\n"))
    }

    private func installed(_ package: String) throws -> String {
        let status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        let stanza = try #require(
            status.components(separatedBy: "\n\n").first { $0.hasPrefix("Package: \(package)\n") })
        return try #require(stanza.firstMatch(of: /Version: ([^\n]+)/)).output.1.description
    }

    @Test("a one-shot check keeps no history: a pending security update's age is unknown, and it fails")
    func oneShot() throws {
        let security = try finding(0, cache: false)
        #expect(security.status == .fail)
        #expect(note(security, "openssl").isEmpty)
        #expect(security.notes.contains { $0.en.hasPrefix("how long the updates have been pending is unknown") })
        // Other updates: unknown age warns.
        #expect(try finding(0, cache: false, rule: "other-updates-applied").status == .warn)
    }

    @Test("an update first seen after the history began ages from the check before it; nothing resets it")
    func agesFromTheHistory() throws {
        // No security update pending when the history begins: openssl is at the candidate.
        let old = try installed("openssl")
        let candidates = try finding(0, cache: false).evidence.filter { $0.source == .update }
        let candidate = try #require(candidates.first { $0.item == "openssl" }?.version)
        for update in candidates { try install(update.item, try #require(update.version)) }
        #expect(try finding(0).status == .pass)
        // Day 1: a check sees nothing new; day 2: the lists (here: an older openssl) make it pending.
        #expect(try finding(1).status == .pass)
        try install("openssl", old)
        let seen = try finding(2)
        #expect(seen.status == .warn, "\(note(seen, "openssl"))")
        #expect(
            note(seen, "openssl").contains("1 days, limit 7"), "counted from the check before: \(note(seen, "openssl"))"
        )
        // An unrelated upgrade (another package's version changes) resets nothing.
        try install("bash", "5.2.15-2+b99")
        let later = try finding(9)
        #expect(later.status == .fail, "\(note(later, "openssl"))")
        #expect(note(later, "openssl").contains("8 days, limit 7"))
        // Emptied lists: nothing pending, and the history keeps the time for when the update is back.
        let lists = scratch.path + "/var/lib/apt/lists"
        try FileManager.default.moveItem(atPath: lists, toPath: scratch.path + "/lists.away")
        #expect(try finding(10).status == .error)
        try FileManager.default.moveItem(atPath: scratch.path + "/lists.away", toPath: lists)
        #expect(note(try finding(11), "openssl").contains("10 days"))
        // Upgraded: the entry goes; the same old version installed again is a new sighting.
        try install("openssl", candidate)
        #expect(try finding(12).status == .pass)
        try install("openssl", old)
        let again = try finding(14)
        #expect(note(again, "openssl").contains("2 days"), "\(note(again, "openssl"))")
        let mode =
            try FileManager.default.attributesOfItem(atPath: stateTree.path + "/state/update-history")[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("a history begun with updates pending: their age is at least since then, unknown, and fails")
    func begunWithUpdatesPending() throws {
        let first = try finding(0)
        #expect(first.status == .fail)
        #expect(note(first, "openssl").contains("pending since before tenken's record began"))
        let week = try finding(3)
        #expect(week.status == .fail, "still unknown: \(note(week, "openssl"))")
        #expect(note(week, "openssl").contains("at least 3 days"))
        #expect(try finding(3, rule: "other-updates-applied").status == .warn)
    }

    @Test("a deleted, damaged, foreign or future-dated history starts anew: ages unknown, never young")
    func historiesThatCannotBeUsed() throws {
        let old = try installed("openssl")
        let candidates = try finding(0, cache: false).evidence.filter { $0.source == .update }
        for update in candidates { try install(update.item, try #require(update.version)) }
        _ = try finding(0)
        try install("openssl", old)
        #expect(try finding(9).status == .fail, "known: 9 days")
        let path = stateTree.path + "/state/update-history"
        let kept = try Data(contentsOf: URL(filePath: path))
        func restore() throws { try kept.write(to: URL(filePath: path)) }

        try FileManager.default.removeItem(atPath: path)
        let deleted = try finding(10)
        #expect(deleted.status == .fail && note(deleted, "openssl").contains("before tenken's record began"))

        try restore()
        try Data("tenken-update-history 1 x\n".utf8).write(to: URL(filePath: path))
        let damaged = try finding(10)
        #expect(damaged.status == .fail)
        #expect(damaged.notes.contains { $0.en.contains("was damaged, so it was started anew") }, "\(damaged.notes)")

        try restore()
        try scratch.write("etc/machine-id", "0123456789abcdef0123456789abcdef\n")
        let foreign = try finding(10)
        #expect(foreign.notes.contains { $0.en.contains("belonged to another machine") }, "\(foreign.notes)")
        #expect(foreign.status == .fail)

        try restore()
        let machine = String(decoding: try Fixture.copy("workstation").read("etc/machine-id"), as: UTF8.self)
        try scratch.write("etc/machine-id", machine)
        let back = try finding(5)
        #expect(back.notes.contains { $0.en.contains("dated after this check's clock") }, "\(back.notes)")
        #expect(back.status == .fail)
    }
}
