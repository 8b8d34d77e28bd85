import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("host controls")
struct HostControlTests {
    static let rules = [
        "disk-encryption", "authentication-required", "screen-lock", "ssh-login-hardened",
        "logs-kept-one-year", "firewall-enabled", "privileged-users",
    ]

    private func report(_ path: String) throws -> CheckReport {
        let policy = try PolicyLoader.loadDefault().selecting(Self.rules).get()
        return Check.run(root: try HostRoot(path), policy: policy, now: Fixture.now)
    }

    @Test(
        """
        clean root: LUKS under LVM for / and /home, hardened sshd (Include read, Match ignored), \
        journal kept 13 months, nftables
        """
    )
    func clean() throws {
        let result = try report(Fixture.path("debian-clean"))
        let disk = try #require(result.finding("disk-encryption"))
        #expect(disk.status == .pass)
        #expect(disk.evidence.map { $0.note?.en ?? "" } == ["on LUKS: dm-4 → dm-3", "on LUKS: dm-5 → dm-3"])
        #expect(result.finding("authentication-required")?.status == .pass)
        #expect(result.finding("ssh-login-hardened")?.status == .pass)
        #expect(result.finding("logs-kept-one-year")?.status == .pass)
        #expect(result.finding("firewall-enabled")?.evidence.map(\.item) == ["nftables"])
        #expect(
            result.finding("privileged-users")?.evidence.map { $0.note?.en ?? "" } == [
                "members: (none)", "members: alice",
            ])
    }

    @Test(
        """
        workstation: plain partition, empty password, autologin, screen lock off, root ssh, \
        volatile journal, no firewall
        """
    )
    func workstation() throws {
        let result = try report(Fixture.path("workstation"))
        #expect(result.finding("disk-encryption")?.status == .fail)
        #expect(result.finding("authentication-required")?.evidence.map(\.item) == ["guest", "gdm3: alice"])
        #expect(result.finding("screen-lock")?.status == .warn)
        #expect(
            result.finding("ssh-login-hardened")?.evidence.map(\.item) == [
                "PermitRootLogin yes", "PasswordAuthentication yes",
            ])
        #expect(result.finding("logs-kept-one-year")?.status == .fail)
        #expect(result.finding("firewall-enabled")?.status == .fail)
    }

    @Test("rsyslog kept a year by logrotate passes; Debian's default four weeks does not")
    func rsyslogRotation() throws {
        let scratch = try Fixture.copy("workstation")
        let status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        try scratch.write(
            "var/lib/dpkg/status",
            status + "\nPackage: rsyslog\nStatus: install ok installed\nArchitecture: amd64\nVersion: 8.2302.0-1\n")
        try scratch.write(
            "etc/logrotate.d/rsyslog",
            "/var/log/syslog\n/var/log/auth.log\n{\n\trotate 4\n\tweekly\n\tmissingok\n\tcompress\n}\n")
        #expect(try report(scratch.path).finding("logs-kept-one-year")?.status == .fail)
        try scratch.write(
            "etc/logrotate.d/rsyslog", "/var/log/syslog\n/var/log/auth.log\n{\n\trotate 13\n\tmonthly\n\tcompress\n}\n")
        #expect(try report(scratch.path).finding("logs-kept-one-year")?.status == .pass)
    }

    @Test(
        "journald spans",
        arguments: [
            ("1year", 31_557_600), ("365d", 31_536_000), ("13month", 34_187_400), ("2w 3d", 1_468_800), ("0", 0),
        ])
    func spans(_ example: (String, Int)) {
        #expect(LogRetentionSource.seconds(example.0) == example.1)
    }

    @Test(
        "an image without /proc: disk encryption does not apply; unreadable shadow is an error for a user",
        Needs.setpriv)
    func limits() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.remove("proc/self/mountinfo")
        try scratch.remove("etc/gdm3/daemon.conf")
        try scratch.write("etc/shadow", "root:!:19700:0:99999:7:::\n", mode: 0)
        #expect(try report(scratch.path).finding("disk-encryption")?.status == .notApplicable)
        let command =
            getuid() == 0
            ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Programs.tenken]
            : [Programs.tenken]
        let result = try run(
            command + ["check", "--json", "--root", scratch.path, "--rules", "authentication-required"],
            environment: ["LANG": "C"])
        #expect(result.status == 2)
        #expect(result.output.contains("/etc/shadow is not readable"))
    }

    /// Replaces a file of a scratch root with a directory: unreadable as a file even for root.
    private func makeUnreadable(_ scratch: ScratchTree, _ relative: String) throws {
        try? scratch.remove(relative)
        try FileManager.default.createDirectory(
            atPath: scratch.path + "/" + relative, withIntermediateDirectories: true)
    }

    @Test(
        "a control file that exists but cannot be read is an error, never a pass",
        arguments: [
            ("etc/ssh/sshd_config", "ssh-login-hardened", "sshd"),
            ("etc/nftables.conf", "firewall-enabled", "firewall"),
            ("etc/group", "privileged-users", "groups"),
            ("etc/systemd/journald.conf", "logs-kept-one-year", "logs"),
            ("sys/dev/block/253:4/uevent", "disk-encryption", "disks"),
            ("etc/gdm3/daemon.conf", "authentication-required", "accounts"),
        ])
    func unreadableControlFile(_ example: (file: String, rule: String, source: String)) throws {
        let scratch = try Fixture.copy("debian-clean")
        #expect(try report(scratch.path).finding(example.rule)?.status == .pass)
        try makeUnreadable(scratch, example.file)
        let finding = try #require(try report(scratch.path).finding(example.rule))
        #expect(finding.status == .error)
        #expect(finding.errors.contains { $0.en.contains("/" + example.file) }, "\(finding.errors)")
        // Only the rule that needed the file: the others still pass.
        #expect(try report(scratch.path).findings.filter { $0.ruleID != example.rule && $0.status == .error }.isEmpty)
        // And its source's coverage says where: incomplete, the file unreadable.
        let coverage = try #require(try report(scratch.path).coverage.first { $0.source == example.source })
        #expect(coverage.state == .incomplete)
        #expect(coverage.gaps.contains { $0.kind == .unreadable && $0.path == "/" + example.file }, "\(coverage.gaps)")
    }

    @Test("a device of / that sysfs does not name is an error for disk encryption, not a pass")
    func unnamedRootDevice() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.remove("sys/dev/block/253:4")
        let finding = try #require(try report(scratch.path).finding("disk-encryption"))
        #expect(finding.status == .error)
        #expect(finding.errors.contains { $0.en == "the block device 253:4 of / is not named in /sys/dev/block" })
    }

    @Test(
        "as an ordinary user: an unreadable sshd include is named; a violation seen elsewhere still counts",
        Needs.setpriv)
    func unreadableInclude() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.write("etc/ssh/sshd_config.d/90-local.conf", "PasswordAuthentication no\n", mode: 0)
        let clean = try Fixture.copy("debian-clean")
        chmod(clean.path + "/etc/ssh/sshd_config.d/50-hardening.conf", 0)
        let command =
            getuid() == 0
            ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Programs.tenken]
            : [Programs.tenken]
        func finding(_ root: String) throws -> [String: Any] {
            let result = try run(
                command + ["check", "--json", "--root", root, "--rules", "ssh-login-hardened"],
                environment: ["LANG": "C"])
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            return try #require((report["findings"] as? [[String: Any]])?.first)
        }
        func errors(_ finding: [String: Any]) -> [String] {
            (finding["errors"] as? [[String: String]] ?? []).compactMap { $0["en"] }
        }
        let seen = try finding(scratch.path)
        #expect(seen["status"] as? String == "warn")  // PermitRootLogin yes was read
        #expect(errors(seen).contains("/etc/ssh/sshd_config.d/90-local.conf: permission denied"))
        let hidden = try finding(clean.path)
        #expect(hidden["status"] as? String == "error")
        #expect(errors(hidden).contains("/etc/ssh/sshd_config.d/50-hardening.conf: permission denied"))
    }
}
