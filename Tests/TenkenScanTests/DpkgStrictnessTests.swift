import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// The status file is read as strictly as dpkg reads it: dpkg-query is the oracle. What it
/// refuses (it exits non-zero) is damage with its line; what it takes (warnings included) is taken.
@Suite("dpkg strictness", Needs.programs("/usr/bin/dpkg-query"))
struct DpkgStrictnessTests {
    static let versions = [
        "1.0", "2:1.0-3+deb12u1", "1.0~rc1", "a1.0", "1.0_x", "1.0 a", "x:1.0", "1:", "1.0-", "-1", "1:-1",
        "1a:1.0", "99999999999:1.0", "+1:2", "-0:1", "-1:1", "00000000001:1",
    ]
    static let statuses = [
        "install ok installed", "hold ok installed", "deinstall ok config-files", "install reinstreq half-installed",
        "install  ok installed", "install ok weird", "wish ok installed", "install bad installed",
        "install ok installed extra", "Install OK Installed", "install\tok installed",
    ]
    static let relations = [
        "Depends: libc6 (>= 2.36)", "Depends: libc6 (=> 2.0)", "Depends: libc6 (>=", "Depends: libc6 (1.0)",
        "Depends: libc6 (> 1.0)", "Depends: libc6 (>= 1.0 a)", "Depends: libc6 (>= a:1)", "Depends: libc6,",
        "Depends: libc6, , x", "Depends: Libc6", "Depends: lib_c6", "Depends: -libc", "Depends: libc6:any",
        "Depends: libc6:", "Depends: a:am_d", "Depends: a:amd-64", "Depends: x (>=1.0)", "Depends: x(>= 1.0)",
        "Depends: x (>= 1.0) y", "Depends: x |", "Depends: x <!nocheck>", "Depends: a | b",
        "Depends: a,\n b (>= 1)", "Depends: x [amd64]", "Conflicts: a | b", "Conflicts: a (<< 2)", "Breaks: a | b",
        "Provides: x (= 1)", "Provides: x (>= 1)", "Enhances: a | b", "Pre-Depends: x | ", "Replaces: a (<= 1-)",
        "Recommends: a | b (>> 1:2-3)", "Suggests: a (<< 1.0), b:i386 (= 2)", "Depends:\nHomepage: h",
        "Depends: a (<> 1)", "Depends: a (>= 1(2)", "Depends: a:-x", "Depends: a (>= 1,2)",
    ]

    static let names = [
        "qbittorrent", "QBittorrent", "lib_c6", "g++", "a.b-c", "-a", "+a", ".a", "a@b", "a b", "a/b", "0ad", "é",
    ]
    static let fields = [
        "X-Extra: 1\nX-Extra: 2", "X-Extra: 1\nx-extra: 2", "Homepage: h\nHomepage: h", "Depends: a\nDepends: b",
        "Maintainer: again", ": empty name", "-Field: x", "Two Words: x", "Spaced : x", "Tab\t: x", "NoColon",
        "X-Extra:", "X-Extra:   ", "X-Extra:\n", "X-Extra:\nHomepage: h", "Description: d2", "Package: b",
    ]

    /// Every variant: each version, status, name, relationship field and extra field, one at a time.
    static var variants: [String] {
        func stanza(
            name: String = "a", version: String = "1.0", status: String = "install ok installed", extra: String = ""
        ) -> String {
            "Package: \(name)\nStatus: \(status)\nVersion: \(version)\nArchitecture: amd64\nMaintainer: m\n"
                + "Description: d\n" + (extra.isEmpty ? "" : extra + "\n")
        }
        return versions.map { stanza(version: $0) } + statuses.map { stanza(status: $0) }
            + relations.map { stanza(extra: $0) } + names.map { stanza(name: $0) } + fields.map { stanza(extra: $0) }
    }

    @Test("refused exactly where dpkg-query refuses, with the line, on generated damage")
    func asStrictAsDpkg() throws {
        let scratch = try ScratchTree()
        try FileManager.default.createDirectory(atPath: scratch.path + "/updates", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path + "/info", withIntermediateDirectories: true)
        var disagreements: [String] = []
        for text in Self.variants {
            try scratch.write("status", text)
            let oracle = try run(["/usr/bin/dpkg-query", "--admindir=" + scratch.path, "-W", "-f", "${Package}\n"])
            let parsed = DpkgStatusParser(Array(text.utf8))
            let refused = oracle.status != 0
            // Both take it: the same name (dpkg keeps names in lower case).
            let dpkgName = oracle.output.trimmingCharacters(in: .newlines)
            if !refused && parsed.problems.isEmpty && parsed.packages.map(\.name) != [dpkgName] {
                disagreements.append("dpkg names it \(dpkgName), tenken \(parsed.packages.map(\.name))")
            }
            if refused != !parsed.problems.isEmpty {
                disagreements.append(
                    "\(refused ? "dpkg refuses" : "dpkg takes") but tenken \(parsed.problems.isEmpty ? "takes" : "refuses")"
                        + ":\n\(text)\(parsed.problems.map(\.message.en))\n\(oracle.error)")
            }
            if let problem = parsed.problems.first {
                #expect((1...8).contains(problem.line), "\(problem)")
                #expect(parsed.packages.isEmpty, "a refused stanza is not counted as a package")
            }
        }
        #expect(
            disagreements.isEmpty,
            "\(disagreements.count) of \(Self.variants.count):\n\(disagreements.joined(separator: "\n"))")
    }

    @Test("a refused field names its line and what dpkg says of it, in both languages")
    func message() {
        let text = "Package: a\nStatus: install ok installed\nVersion: 1.0\nDepends: x (>= 1.0) y\n"
        let problem = DpkgStatusParser(Array(text.utf8)).problems.first
        #expect(problem?.line == 4)
        #expect(
            problem?.message.en == "line 4: dpkg refuses the depends field (syntax error after a package reference) (a)"
        )
        #expect(problem?.message.ja.hasPrefix("4 行目: depends フィールドを dpkg は読めません") == true)
    }
}
