import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("check on fixture roots")
struct CheckTests {
    /// An hour after the clean fixture's ClamAV daily database was built.
    static let now = Fixture.now

    private func check(_ path: String) throws -> CheckReport {
        Check.run(root: try HostRoot(path), policy: try PolicyLoader.loadDefault(), now: Self.now)
    }

    @Test("a clean Debian root is compliant")
    func cleanRoot() throws {
        // The real clock: list ages are the checkout's file times; ClamAV's build is made fresh.
        let scratch = try Fixture.copy("debian-clean")
        try scratch.setClamAVBuild(hoursAgo: 1)
        let report = Check.run(root: try HostRoot(scratch.path), policy: try PolicyLoader.loadDefault())
        #expect(report.verdict == .compliant)
        // No GNOME on this root: the screen-lock rule does not apply.
        #expect(report.findings.filter { $0.status != .pass }.map(\.ruleID) == ["screen-lock"])
        #expect(report.finding("screen-lock")?.status == .notApplicable)
        #expect(report.host.hostname == "kensa-pc01")
        #expect(report.host.machineID == "5f3c8e1a9b2d4c6e8f0a1b2c3d4e5f60")
        #expect(report.host.os.hasPrefix("Debian GNU/Linux"))
    }

    @Test("P2P software is found in every place it hides")
    func p2pWorkstation() throws {
        let report = try check(Fixture.path("workstation"))
        #expect(report.verdict == .nonCompliant)
        #expect(report.verdict.exitCode == 1)
        let p2p = try #require(report.finding("no-p2p-software"))
        #expect(p2p.status == .fail)
        let seen = Set(p2p.evidence.map { "\($0.source.rawValue) \($0.item)" })
        #expect(
            seen.isSuperset(of: [
                "dpkg qbittorrent",
                "snap qbittorrent-arnatious",
                "file /usr/bin/qbittorrent",
                "file /home/alice/Downloads/qBittorrent-4.6.2_x86_64.AppImage",
                "wine /home/alice/.wine/drive_c/Program Files/Winny/Winny.exe",
                "process /usr/bin/qbittorrent",
                "socket tcp 0.0.0.0:6881",
                "socket udp 0.0.0.0:6881",
            ]), "\(seen.sorted())")
        // Removed with config files left behind is not installed; the core22 snap is no P2P.
        #expect(!seen.contains { $0.contains("transmission") || $0.contains("core22") })
        let package = try #require(p2p.evidence.first { $0.source == .dpkg })
        #expect(package.version == "4.5.2-3+deb12u1")
        #expect(package.detail == "installed")
        let process = try #require(p2p.evidence.first { $0.source == .process })
        #expect(process.pid == 4242)
        #expect(p2p.clauses.contains("002 第11条(10)キ"))
        #expect(p2p.evidence.allSatisfy { $0.confidence == .confirmed })
    }

    @Test("flagged categories warn; a default port with no visible owner is weak evidence only")
    func flaggedSoftware() throws {
        let report = try check(Fixture.path("workstation"))
        let cloud = try #require(report.finding("no-personal-cloud-sync"))
        #expect(cloud.status == .warn)
        #expect(cloud.evidence.map(\.item) == ["com.dropbox.Client"])
        let remote = try #require(report.finding("no-remote-access-software"))
        #expect(remote.status == .warn)
        let items = Set(remote.evidence.map { "\($0.confidence.rawValue) \($0.item)" })
        #expect(
            items == [
                "confirmed /opt/teamviewer", "confirmed /opt/teamviewer/tv_bin/TeamViewer",
                "weak tcp [::]:5938",
            ])
    }

    @Test("a default port whose owner cannot be seen only warns, even under a failing rule")
    func suspectedOnly() throws {
        let scratch = try Fixture.copy("debian-clean")
        var table = String(decoding: try scratch.read("proc/net/tcp"), as: UTF8.self)
        table +=
            "   5: 00000000:1AE1 00000000:0000 0A 00000000:00000000 00:00000000 00000000  "
            + "1000        0 55501 1 0000000008f1d653 100 0 0 10 0\n"
        try scratch.write("proc/net/tcp", table)
        let report = try check(scratch.path)
        let p2p = try #require(report.finding("no-p2p-software"))
        #expect(p2p.status == .warn)
        #expect(!p2p.evidence.isEmpty && p2p.evidence.allSatisfy { $0.confidence == .weak })
        #expect(p2p.evidence.first?.item == "tcp 0.0.0.0:6881")
    }

    @Test("patch state of the workstation: security updates overdue, reboot pending, no automatic updates")
    func workstationPatches() throws {
        let report = try check(Fixture.path("workstation"))
        let security = try #require(report.finding("security-updates-applied"))
        #expect(security.status == .fail)
        #expect(security.evidence.filter { $0.source == .update }.map(\.item) == ["apt", "ca-certificates", "openssl"])
        #expect(report.finding("other-updates-applied")?.status == .warn)
        let reboot = try #require(report.finding("reboot-not-pending"))
        #expect(reboot.status == .warn)
        #expect(reboot.evidence.contains { $0.version == "6.1.0-56-amd64" && $0.installed == "6.1.0-54-amd64" })
        #expect(report.finding("automatic-security-updates")?.status == .warn)
        let text = TextReport(report, language: .ja).render()
        #expect(text.contains("セキュリティ更新 openssl 3.0.19-1~deb12u2 → 3.0.22-1~deb12u2 (oldstable-security)"))
    }

    @Test("a Wine prefix is walked whole, its windows directory too; only the names a catalog asks about are kept")
    func winePrefixWalkedWhole() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.write("home/alice/.wine/drive_c/windows/system32/Winny.exe", "")
        let request = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get().factRequest
        let facts = HostFacts.collect(from: try HostRoot(scratch.path), request: request)
        let wine = facts.executables.filter { $0.location == .winePrefix }.map(\.path).sorted()
        #expect(
            wine == [
                "/home/alice/.wine/drive_c/Program Files/Winny/Winny.exe",
                "/home/alice/.wine/drive_c/windows/system32/Winny.exe",
            ])
        #expect(!facts.executables.contains { $0.name == FileName("notepad.exe") }, "not a catalog name")
        #expect(
            HostFacts.collect(from: try HostRoot(scratch.path)).executables.contains {
                $0.name == FileName("notepad.exe")
            })
    }

    @Test("merged /usr: /bin and /usr/bin are listed once")
    func mergedUsr() throws {
        let facts = HostFacts.collect(from: try Fixture.root("debian-clean"))
        #expect(facts.executables.filter { $0.name == FileName("bash") }.map(\.path) == ["/usr/bin/bash"])
    }

    @Test("a non-UTF-8 directory name is scanned and shown with \\x escapes")
    func nonUTF8Names() throws {
        let scratch = try Fixture.copy("workstation")
        let odd = scratch.path + "/home/alice/.wine/drive_c/Program Files/"
        let name: [UInt8] = Array("Share-".utf8) + [0xFF, 0xFE, 0x82]
        let directory = odd + String(decoding: [], as: UTF8.self)
        var path = Array(directory.utf8) + name + [0]
        #expect(mkdir(&path, 0o755) == 0 || errno == EEXIST)
        var exe = Array(directory.utf8) + name + Array("/Share.exe".utf8) + [0]
        let fd = creat(&exe, 0o644)
        #expect(fd >= 0)
        close(fd)
        let report = try check(scratch.path)
        let p2p = try #require(report.finding("no-p2p-software"))
        #expect(
            p2p.evidence.contains {
                $0.source == .wine
                    && $0.item == "/home/alice/.wine/drive_c/Program Files/Share-\\xff\\xfe\\x82/Share.exe"
            })
        let json = String(decoding: try report.json(), as: UTF8.self)
        #expect(json.contains("Share-\\\\xff\\\\xfe\\\\x82"))
    }

    @Test("a corrupt dpkg status is an error unless something already failed")
    func corruptStatus() throws {
        // Only the software rules: with packages missing, the antivirus rule would fail outright.
        let scratch = try Fixture.copy("debian-clean")
        var status = try scratch.read("var/lib/dpkg/status")
        status.removeLast(status.count / 3)  // cut mid-stanza, as a full disk would
        try scratch.write("var/lib/dpkg/status", status)
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software", "no-personal-cloud-sync"]).get()
        let report = Check.run(root: try HostRoot(scratch.path), policy: policy, now: Self.now)
        #expect(report.verdict == .incomplete)
        #expect(report.verdict.exitCode == 2)
        let p2p = try #require(report.finding("no-p2p-software"))
        #expect(p2p.status == .error)
        #expect(p2p.errors.contains { $0.en.contains("/var/lib/dpkg/status") && $0.en.contains("truncated") })
        #expect(p2p.errors.allSatisfy { !$0.ja.isEmpty })
    }

    @Test("a corrupt status does not hide what the rest of it shows")
    func corruptStatusStillFails() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.write(
            "var/lib/dpkg/status",
            try scratch.read("var/lib/dpkg/status") + Array("Package: broken\nno colon here\n".utf8))
        let p2p = try #require(try check(scratch.path).finding("no-p2p-software"))
        #expect(p2p.status == .fail)
        #expect(!p2p.errors.isEmpty)
    }

    @Test("an unreadable status (a directory, a FIFO) is an error, never a hang or a pass")
    func unreadableStatus() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.remove("var/lib/dpkg/status")
        try FileManager.default.createDirectory(
            atPath: scratch.path + "/var/lib/dpkg/status", withIntermediateDirectories: false)
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        var report = Check.run(root: try HostRoot(scratch.path), policy: policy, now: Self.now)
        #expect(report.finding("no-p2p-software")?.status == .error)
        #expect(report.finding("no-p2p-software")?.errors.first?.en == "/var/lib/dpkg/status: not a regular file")

        try scratch.remove("var/lib/dpkg/status")
        #expect(mkfifo(scratch.path + "/var/lib/dpkg/status", 0o644) == 0)
        report = Check.run(root: try HostRoot(scratch.path), policy: policy, now: Self.now)
        #expect(report.verdict == .incomplete)
    }

    @Test("symlinks in a mounted root resolve inside it, never on the scanning host")
    func symlinksStayInRoot() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.remove("var/lib/dpkg/status")
        // Absolute and ../-escaping links: both must land in the scratch root.
        try scratch.write(
            "srv/status.real",
            try Data(contentsOf: URL(filePath: Fixture.path("workstation") + "/var/lib/dpkg/status")).map { $0 })
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/var/lib/dpkg/status", withDestinationPath: "/srv/status.real")
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/etc/hostname.link", withDestinationPath: "../../../../../../etc/hostname")
        let report = try check(scratch.path)
        #expect(
            report.finding("no-p2p-software")?.evidence.contains { $0.source == .dpkg && $0.item == "qbittorrent" }
                == true)
        let root = try HostRoot(scratch.path)
        #expect(try root.readFile("/etc/hostname.link") == Array("kensa-pc01\n".utf8))
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/etc/escape", withDestinationPath: "/proc/self/environ")
        #expect(throws: HostReadError.self) { try root.readFile("/etc/escape") }
    }

    @Test(
        "a root with no Debian files: software rules pass, patch rules do not apply, antivirus and ledger are missing")
    func emptyRoot() throws {
        let scratch = try ScratchTree()
        let report = try check(scratch.path)
        #expect(report.findings.filter { $0.errors.isEmpty }.count == 20)
        #expect(report.finding("os-release-supported")?.status == .notApplicable)
        #expect(report.finding("machine-registered")?.status == .error)
        #expect(
            report.finding("machine-registered")?.errors.first?.en.contains("no ledger at /etc/tenken/ledger.yaml")
                == true)
        #expect(report.finding("no-p2p-software")?.status == .pass)
        #expect(report.finding("security-updates-applied")?.status == .notApplicable)
        #expect(report.finding("antivirus-installed")?.status == .fail)
    }

    @Test("JSON report shape")
    func jsonShape() throws {
        let report = try check(Fixture.path("workstation"))
        let object = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        #expect(object["schema"] as? String == "tenken.check/1")
        #expect(object["verdict"] as? String == "non-compliant")
        #expect(
            (object["startedAt"] as? String)?.range(
                of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.count == 23)
        #expect(findings.allSatisfy { ($0["title"] as? [String: String])?.keys.sorted() == ["en", "ja"] })
        #expect((object["policy"] as? [String: Any])?["digest"] as? String == (try PolicyLoader.loadDefault()).digest)
    }
}
