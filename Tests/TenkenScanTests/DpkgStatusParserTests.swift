import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("dpkg status", Needs.programs("/usr/bin/dpkg-query"))
struct DpkgStatusParserTests {
    /// dpkg-query reads the same file with --admindir: our parse must agree with dpkg's own.
    private func dpkgQuery(_ admindir: String) throws -> [String] {
        let result = try run([
            "/usr/bin/dpkg-query", "--admindir=" + admindir, "-W",
            "-f", "${Package}\t${Version}\t${db:Status-Status}\n",
        ])
        return result.output.split(separator: "\n").map(String.init).sorted()
    }

    private func ours(_ status: [UInt8]) -> [String] {
        DpkgStatusParser(status).packages.map { "\($0.name)\t\($0.version)\t\($0.state)" }.sorted()
    }

    @Test("fixture status parses exactly as dpkg-query reads it", arguments: ["debian-clean", "workstation"])
    func matchesDpkgQueryOnFixtures(_ fixture: String) throws {
        let admindir = Fixture.path(fixture) + "/var/lib/dpkg"
        let bytes = Array(try Data(contentsOf: URL(filePath: admindir + "/status")))
        let parser = DpkgStatusParser(bytes)
        #expect(parser.problems.isEmpty)
        #expect(ours(bytes) == (try dpkgQuery(admindir)))
    }

    @Test("this machine's own dpkg status parses exactly as dpkg-query reads it")
    func matchesDpkgQueryOnHost() throws {
        let bytes = Array(try Data(contentsOf: URL(filePath: "/var/lib/dpkg/status")))
        let parser = DpkgStatusParser(bytes)
        #expect(parser.problems.isEmpty)
        #expect(parser.packages.count > 100)
        #expect(ours(bytes) == (try dpkgQuery("/var/lib/dpkg")))
    }

    @Test("config-files packages are listed but not present")
    func configFilesAreNotPresent() throws {
        let bytes = Array(try Data(contentsOf: URL(filePath: Fixture.path("workstation") + "/var/lib/dpkg/status")))
        let transmission = try #require(DpkgStatusParser(bytes).packages.first { $0.name == "transmission-common" })
        #expect(transmission.state == "config-files")
        #expect(!transmission.isPresent)
    }

    @Test("a status cut off mid-stanza keeps every whole stanza and reports the cut one")
    func truncatedFile() throws {
        let bytes = Array(try Data(contentsOf: URL(filePath: Fixture.path("workstation") + "/var/lib/dpkg/status")))
        let text = String(decoding: bytes, as: UTF8.self)
        // Cut inside the last stanza, before its Status line would be complete.
        let cut = try #require(text.range(of: "Package: transmission-common\nStatus: deins"))
        let truncated = Array(text[..<cut.upperBound].utf8)
        let parser = DpkgStatusParser(truncated)
        #expect(parser.packages.map(\.name).contains("qbittorrent"))
        #expect(!parser.packages.map(\.name).contains("transmission-common"))
        #expect(parser.problems.count == 1)
        #expect(parser.problems.first?.message.en.contains("transmission-common") == true)
        #expect(parser.problems.first?.message.en.contains("ends mid-line (truncated?)") == true)
    }

    @Test("garbage lines, bad UTF-8, NUL bytes and missing blank lines damage only their stanza")
    func damagedStanzas() {
        let status =
            Array(
                """
                Package: good-one
                Status: install ok installed
                Version: 1.0-1

                Package: no-colon
                Status: install ok installed
                this line has no colon
                Version: 2.0

                Package: bad-utf8
                Status: install ok installed
                Version: 1.\u{0}0

                Package: merged-a
                Status: install ok installed
                Version: 1
                Package: merged-b
                Status: install ok installed

                Status: install ok installed
                Version: 3

                Package: good-two
                Status: hold ok installed
                Version: 1:2.3~rc1-4

                """.utf8)
            + Array("\nPackage: latin1-\u{E9}\nStatus: install ok installed\nVersion: 1\n".utf8).map {
                $0 == 0xC3 ? 0xE9 : $0
            }
        let parser = DpkgStatusParser(status)
        #expect(parser.packages.map(\.name) == ["good-one", "good-two"])
        #expect(parser.packages.last?.version == "1:2.3~rc1-4")
        #expect(parser.problems.count == 5)
        #expect(parser.problems.contains { $0.message.en.contains("not a \"Field: value\" line") && $0.line == 7 })
        #expect(parser.problems.contains { $0.message.en.contains("duplicate Package") })
        #expect(parser.problems.contains { $0.message.en.contains("no Package field") })
        #expect(parser.problems.filter { $0.message.en.contains("not valid UTF-8") }.count == 2)
    }

    @Test("CRLF line endings and an empty file")
    func lineEndingsAndEmpty() {
        let crlf = Array("Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\n".utf8)
        #expect(DpkgStatusParser(crlf).packages.map(\.version) == ["1"])
        #expect(DpkgStatusParser([]).packages.isEmpty)
        #expect(DpkgStatusParser([]).problems.isEmpty)
    }

    @Test("random bytes never crash the parser")
    func randomBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0..<2000, using: &generator)).map { _ in
                ([0x0A, 0x3A, 0x20, 0x50, 0x61, 0xFF, 0x00] as [UInt8]).randomElement(using: &generator)!
            }
            _ = DpkgStatusParser(bytes)
        }
    }
}
