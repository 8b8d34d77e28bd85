import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// `os-release-supported`: a release past its end has nothing pending and would pass every update
/// rule. The dates are distro-info-data's (tenken's copy, and the root's file only where it is
/// earlier); the release is named by every file that says it, and the earliest end decides.
@Suite("supported release")
struct ReleaseSupportTests {
    private func finding(_ root: String, on day: String = "2026-12-03") throws -> Finding {
        let policy = try PolicyLoader.loadDefault().selecting(["os-release-supported"]).get()
        let now = try #require(DistroInfo.day(day)) + 12 * 3600
        let report = Check.run(root: try HostRoot(root), policy: policy, now: now)
        return try #require(report.finding("os-release-supported"))
    }

    private func decision(_ finding: Finding) -> String { finding.evidence.last?.note?.en ?? "" }

    /// A Debian root of `release` (its os-release, debian_version and base-files agree).
    private func debian(_ number: String, _ series: String, baseFiles: String? = nil) throws -> ScratchTree {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux \(number) (\(series))\"\nNAME=\"Debian GNU/Linux\"\n"
                + "VERSION_ID=\"\(number)\"\nVERSION_CODENAME=\(series)\nID=debian\n")
        try scratch.write("etc/debian_version", "\(number).5\n")
        try setBaseFiles(scratch, baseFiles ?? "\(number).4+deb\(number)u5")
        return scratch
    }

    private func setBaseFiles(_ scratch: ScratchTree, _ version: String) throws {
        let status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        let changed = status.replacing(/(Package: base-files\n(?:[^\n]+\n)*?)Version: [^\n]+/) { match in
            match.output.1 + "Version: \(version)"
        }
        try scratch.write("var/lib/dpkg/status", changed)
    }

    @Test("bookworm passes within LTS, warns 90 days before its end, fails after; the dates are named")
    func bookwormThroughLTS() throws {
        let scratch = try debian("12", "bookworm")
        let now = try finding(scratch.path)
        #expect(now.status == .pass, "\(now.evidence.map { $0.note?.en ?? "" })")
        #expect(decision(now).contains("security support (LTS) until 2028-06-30"), "\(decision(now))")
        #expect(decision(now).contains("tenken's copy of distro-info-data"))
        #expect(now.evidence.filter { $0.note?.en.hasSuffix(": Debian 12 (bookworm)") == true }.count == 4)
        let soon = try finding(scratch.path, on: "2028-05-01")
        #expect(soon.status == .warn && decision(soon).contains("60 days from now"), "\(decision(soon))")
        let past = try finding(scratch.path, on: "2028-07-01")
        #expect(past.status == .fail)
        #expect(decision(past).contains("security support (LTS) ended on 2028-06-30"), "\(decision(past))")
        #expect(try finding(scratch.path, on: "2028-06-30").status == .warn, "the last day is still supported")
    }

    @Test("a planted distro-info file cannot extend support; an earlier date in it counts")
    func plantedFile() throws {
        let scratch = try debian("10", "buster")
        #expect(try finding(scratch.path).status == .fail, "buster's LTS ended 2024-06-30")
        let header = "version,codename,series,created,release,eol,eol-lts,eol-elts\n"
        try scratch.write(
            "usr/share/distro-info/debian.csv",
            header + "10,Buster,buster,2017-06-17,2019-07-06,2022-09-10,2040-06-30,2045-06-30\n")
        let planted = try finding(scratch.path)
        #expect(planted.status == .fail, "\(decision(planted))")
        #expect(decision(planted).contains("ended on 2024-06-30"))
        #expect(decision(planted).contains("/usr/share/distro-info/debian.csv and tenken's copy"))
        // A date where tenken's copy has none is not taken: lenny never had LTS.
        let lenny = try debian("5.0", "lenny", baseFiles: "5lenny10")
        #expect(try finding(lenny.path).status == .fail)
        try lenny.write(
            "usr/share/distro-info/debian.csv", header + "5.0,Lenny,lenny,2007-04-08,2009-02-14,2012-02-06,2040-01-01\n"
        )
        let added = try finding(lenny.path)
        #expect(
            added.status == .fail && decision(added).contains("(regular) ended on 2012-02-06"), "\(decision(added))")
        // A date the root's file lacks stays tenken's; an earlier one in it counts.
        let trixie = try debian("13", "trixie")
        try trixie.write(
            "usr/share/distro-info/debian.csv", header + "13,Trixie,trixie,2023-06-10,2025-08-09,2026-11-01,,\n")
        let shortened = try finding(trixie.path)
        #expect(shortened.status == .pass, "\(decision(shortened))")
        #expect(decision(shortened).contains("until 2030-06-30"), "the root's earlier eol does not cut LTS")
        try trixie.write(
            "usr/share/distro-info/debian.csv",
            header + "13,Trixie,trixie,2023-06-10,2025-08-09,2026-11-01,2026-11-30,\n")
        let cut = try finding(trixie.path)
        #expect(cut.status == .fail && decision(cut).contains("ended on 2026-11-30"), "\(decision(cut))")
        // A file that is not distro-info's is noted, and tenken's copy answers.
        try trixie.write("usr/share/distro-info/debian.csv", "<html>not found</html>\n")
        let damaged = try finding(trixie.path)
        #expect(damaged.status == .pass)
        #expect(damaged.notes.contains { $0.en.contains("is not in distro-info's format") }, "\(damaged.notes)")
    }

    @Test("Extended LTS counts only with Freexian's archive configured and enabled")
    func extendedLTS() throws {
        let scratch = try debian("10", "buster")
        let elts = "deb http://deb.freexian.com/extended-lts buster main contrib non-free\n"
        try scratch.write("etc/apt/sources.list.d/elts.list", "# " + elts)
        #expect(try finding(scratch.path).status == .fail, "commented out")
        try scratch.write(
            "etc/apt/sources.list.d/elts.list.disabled", elts)
        #expect(try finding(scratch.path).status == .fail, "a file apt does not read")
        try scratch.write(
            "etc/apt/sources.list.d/elts.sources",
            "Types: deb\nURIs: http://deb.freexian.com/extended-lts\nSuites: buster\nComponents: main\nEnabled: no\n")
        #expect(try finding(scratch.path).status == .fail, "Enabled: no")
        try scratch.write("etc/apt/sources.list.d/elts.list", elts)
        let enabled = try finding(scratch.path)
        #expect(enabled.status == .pass, "\(decision(enabled))")
        #expect(decision(enabled).contains("security support (Extended LTS (Freexian)) until 2029-06-30"))
    }

    @Test("os-release edited to name a newer release: the other files still name the real one, the earliest decides")
    func editedOSRelease() throws {
        let scratch = try debian("10", "buster")
        try scratch.write(
            "etc/os-release", "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\nID=debian\n")
        let edited = try finding(scratch.path)
        #expect(edited.status == .fail, "\(decision(edited))")
        #expect(edited.notes.contains { $0.en.contains("the files name different releases") })
        #expect(decision(edited).contains("Debian 10 (buster)"))
        // With every file naming trixie but dpkg's base-files, the package still says buster.
        try scratch.write("etc/debian_version", "13.1\n")
        #expect(try finding(scratch.path).status == .fail)
        // No os-release at all: the release is still known from the other files.
        try scratch.remove("etc/os-release")
        try scratch.write("etc/debian_version", "10.13\n")
        #expect(try finding(scratch.path).status == .fail)
    }

    @Test("Ubuntu: its end, ESM's only with ESM's archive enabled, the server end with ubuntu-server")
    func ubuntu() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write(
            "etc/os-release",
            "NAME=\"Ubuntu\"\nVERSION_ID=\"20.04\"\nVERSION_CODENAME=focal\nUBUNTU_CODENAME=focal\nID=ubuntu\n"
                + "ID_LIKE=debian\n")
        try scratch.write("etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\n")
        try setBaseFiles(scratch, "11ubuntu5.8")
        let ended = try finding(scratch.path)
        #expect(ended.status == .fail, "\(decision(ended))")
        #expect(decision(ended).contains("Ubuntu 20.04 LTS (focal): security support (regular) ended on 2025-05-29"))
        #expect(ended.evidence.contains { $0.item == "/etc/lsb-release" })
        try scratch.write(
            "etc/apt/sources.list.d/ubuntu-esm-infra.sources",
            "Types: deb\nURIs: https://esm.ubuntu.com/infra/ubuntu\nSuites: focal-infra-security\n"
                + "Components: main\n")
        let esm = try finding(scratch.path)
        #expect(esm.status == .pass && decision(esm).contains("ESM (Ubuntu Pro)) until 2030-04-23"), "\(decision(esm))")
        // A release whose server end differs: 10.04's desktop support ended in 2013, its server's in 2015.
        try scratch.remove("etc/apt/sources.list.d/ubuntu-esm-infra.sources")
        try scratch.write(
            "etc/os-release", "NAME=\"Ubuntu\"\nVERSION_ID=\"10.04\"\nUBUNTU_CODENAME=lucid\nID=ubuntu\n")
        try scratch.write("etc/lsb-release", "DISTRIB_RELEASE=10.04\nDISTRIB_CODENAME=lucid\n")
        #expect(decision(try finding(scratch.path)).contains("(regular) ended on 2013-05-09"))
        var status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        status += "\nPackage: ubuntu-server\nStatus: install ok installed\nVersion: 1.361\nArchitecture: amd64\n"
        try scratch.write("var/lib/dpkg/status", status)
        #expect(decision(try finding(scratch.path)).contains("(server) ended on 2015-04-30"))
    }

    @Test("testing or unstable warns; a release nobody knows is an error; a system that is not Debian's is not checked")
    func otherCases() throws {
        let sid = try debian("13", "trixie", baseFiles: "14")
        try sid.write("etc/os-release", "NAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=forky\nID=debian\n")
        try sid.write("etc/debian_version", "forky/sid\n")
        let testing = try finding(sid.path)
        #expect(testing.status == .warn, "\(decision(testing))")
        #expect(decision(testing).contains("Debian 14 (forky) is a development release"))

        let unknown = try debian("99", "zebra", baseFiles: "99.1")
        let error = try finding(unknown.path)
        #expect(error.status == .error)
        #expect(error.errors.contains { $0.en.contains("no file names a release distro-info knows") })

        let other = try Fixture.copy("debian-clean")
        try other.write("etc/os-release", "NAME=Fedora\nID=fedora\nVERSION_ID=39\n")
        try other.remove("var/lib/dpkg")
        #expect(try finding(other.path).status == .notApplicable)
        // os-release saying Fedora on a root whose dpkg lists base-files is still Debian's.
        let disguised = try debian("10", "buster")
        try disguised.write("etc/os-release", "NAME=Fedora\nID=fedora\nVERSION_ID=39\n")
        #expect(try finding(disguised.path).status == .fail)
    }

    @Test("an os-release that cannot be read is an error, unless another file shows the release has ended")
    func unreadable() throws {
        let scratch = try debian("12", "bookworm")
        try scratch.remove("etc/os-release")
        try FileManager.default.createDirectory(
            atPath: scratch.path + "/etc/os-release", withIntermediateDirectories: true)
        let hidden = try finding(scratch.path)
        #expect(hidden.status == .error, "\(decision(hidden))")
        #expect(hidden.errors.contains { $0.en.contains("/etc/os-release") }, "\(hidden.errors)")
        #expect(try finding(scratch.path, on: "2028-07-01").status == .fail)
    }
}
