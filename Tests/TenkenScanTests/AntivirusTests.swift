import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("antivirus")
struct AntivirusTests {
    private func report(_ path: String, now: Int = Fixture.now) throws -> CheckReport {
        Check.run(root: try HostRoot(path), policy: try PolicyLoader.loadDefault(), now: now)
    }

    @Test("ClamAV installed, running, current, with on-access scanning")
    func cleanClamAV() throws {
        let report = try report(Fixture.path("debian-clean"))
        #expect(report.finding("antivirus-installed")?.status == .pass)
        #expect(report.finding("antivirus-definitions-current")?.status == .pass)
        #expect(report.finding("on-access-scanning")?.status == .pass)
        let databases = report.finding("antivirus-definitions-current")?.evidence.map(\.item) ?? []
        #expect(databases == ["/var/lib/clamav/bytecode.cvd", "/var/lib/clamav/daily.cld", "/var/lib/clamav/main.cvd"])
    }

    @Test("definitions older than the limit fail; the limit comes from the policy")
    func oldDefinitions() throws {
        let later = try report(Fixture.path("debian-clean"), now: 1_795_000_000 + 49 * 3600)
        #expect(later.finding("antivirus-definitions-current")?.status == .fail)
        #expect(
            later.finding("antivirus-definitions-current")?.evidence.contains {
                $0.note?.en.contains("49 hours ago") == true
            } == true)
    }

    @Test("database headers: real layout parses, anything else is a named error")
    func headers() throws {
        let header = Array("ClamAV-VDB:20 Nov 2026 09-26 +0000:27836:2076548:90:0f3f:X:raynman:1795771560".utf8)
        let database = try #require(
            ClamAVSource.parseHeader(header + Array(repeating: 0x20, count: 512 - header.count), file: "daily.cvd"))
        #expect(database.version == 27836 && database.signatures == 2_076_548 && database.builtAt == 1_795_771_560)
        #expect(ClamAVSource.parseHeader(Array(repeating: 0x41, count: 512), file: "x") == nil)
        #expect(ClamAVSource.parseHeader(Array(header.prefix(100)), file: "x") == nil)

        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("var/lib/clamav/daily.cld", Array("not a database".utf8))
        let facts = HostFacts.collect(
            from: try HostRoot(scratch.path), request: HostFacts.Request(sources: [.antivirus]))
        #expect(
            facts.issues.contains {
                $0.source == .antivirus && $0.message.en.contains("daily.cld: not a ClamAV database header")
            })
        #expect(facts.clamav?.databases.count == 2)
    }

    @Test("freshclam errors of the last run are shown; ClamAV without databases fails")
    func updaterErrors() throws {
        let scratch = try Fixture.copy("debian-clean")
        let log = String(decoding: try scratch.read("var/log/clamav/freshclam.log"), as: UTF8.self)
        try scratch.write(
            "var/log/clamav/freshclam.log",
            log
                + "Wed Nov 18 07:10:01 2026 -> ClamAV update process started at Wed Nov 18 07:10:01 2026\n"
                + "Wed Nov 18 07:10:31 2026 -> ERROR: Can't download daily.cvd "
                + "from https://database.clamav.net/daily.cvd\n"
        )
        let withErrors = try report(scratch.path)
        #expect(
            withErrors.finding("antivirus-definitions-current")?.evidence.contains {
                $0.note?.en.contains("freshclam error") == true
                    && $0.note?.en.contains("Can't download daily.cvd") == true
            } == true)

        for name in ["bytecode.cvd", "daily.cld", "main.cvd"] { try scratch.remove("var/lib/clamav/" + name) }
        #expect(try report(scratch.path).finding("antivirus-definitions-current")?.status == .fail)
    }

    @Test("a commercial product counts as installed; its definition age is not applicable")
    func commercialProduct() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.write("opt/microsoft/mdatp/sbin/wdavdaemon", "", mode: 0o755)
        let result = try report(scratch.path)
        #expect(result.finding("antivirus-installed")?.status == .pass)
        #expect(result.finding("antivirus-installed")?.evidence.contains { $0.item == "/opt/microsoft/mdatp" } == true)
        let definitions = try #require(result.finding("antivirus-definitions-current"))
        #expect(definitions.status == .notApplicable)
        #expect(definitions.notes.contains { $0.en.contains("Microsoft Defender for Endpoint") })
    }

    @Test("no antivirus: installed fails, on-access warns")
    func none() throws {
        let result = try report(Fixture.path("workstation"))
        #expect(result.finding("antivirus-installed")?.status == .fail)
        #expect(result.finding("on-access-scanning")?.status == .warn)
    }
}
