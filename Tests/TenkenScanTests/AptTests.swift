import CCompression
import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("patch state", Needs.programs("/usr/bin/apt", "/usr/bin/gzip", "/usr/bin/xz", "/usr/bin/zstd", "/usr/bin/lz4"))
struct AptTests {
    // MARK: Debian version order, with dpkg as the oracle

    /// Version strings built from the pieces that make ordering hard: epochs, tildes, letters,
    /// leading zeros, revisions with and without hyphens.
    static let versions: [String] = {
        var generator = SeededGenerator(seed: 20_261_121)
        let pieces = [
            "0", "1", "01", "2", "10", "1.0", "1.00", "1.0~rc1", "1.0~~", "1.0~", "1.0+dfsg", "1.0a", "1.0-1",
            "1.0-1~bpo1", "1.0-1+b1", "1.0-1.1", "1:0.9", "2:1.0", "1.0+deb12u1", "1.0+deb12u10", "9.1-1",
            "2.36-9+deb12u7", "2.36-9+deb12u14", "3.0.19-1~deb12u2", "3.0.22-1~deb12u2", "20230311+deb12u1",
            "20250419~deb12u2", "a", "a1", "1a", "1.a", "1-a", "1.2.3-4-5", "0:1.0", "1.0.", "1..0", "1+", "1~a",
        ]
        var result = pieces
        for _ in 0..<400 {
            let epoch =
                Int.random(in: 0...5, using: &generator) == 0 ? "\(Int.random(in: 0...2, using: &generator)):" : ""
            let upstream = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                ["0", "1", "2", "10", "a", "b", "~", "+", ".", "~rc", "00"].randomElement(using: &generator)!
            }.joined()
            let revision =
                Int.random(in: 0...2, using: &generator) == 0
                ? "" : "-" + ["1", "0", "1~bpo", "2+b1", "1.1", "a"].randomElement(using: &generator)!
            result.append(epoch + "1" + upstream + revision)
        }
        return result
    }()

    @Test("ordering agrees with dpkg --compare-versions on generated pairs", Needs.programs("/usr/bin/dpkg"))
    func versionsMatchDpkg() throws {
        var generator = SeededGenerator(seed: 7)
        var checked = 0
        for _ in 0..<600 {
            let a = Self.versions.randomElement(using: &generator)!
            let b = Self.versions.randomElement(using: &generator)!
            let less = try run(["/usr/bin/dpkg", "--compare-versions", a, "lt", b]).status == 0
            let equal = try run(["/usr/bin/dpkg", "--compare-versions", a, "eq", b]).status == 0
            let ours = DebianVersion.compare(DebianVersion(a), DebianVersion(b))
            #expect((ours < 0) == less, "\(a) < \(b)")
            #expect((ours == 0) == equal, "\(a) == \(b)")
            checked += 1
        }
        #expect(checked == 600)
    }

    @Test("the classic cases")
    func knownOrders() {
        // Letters sort before other symbols: 1.0a < 1.0+b1.
        let ascending = ["1.0~rc1", "1.0", "1.0-1", "1.0a", "1.0+b1", "1.1", "1:0.1"]
        for (lower, higher) in zip(ascending, ascending.dropFirst()) {
            #expect(DebianVersion(lower) < DebianVersion(higher), "\(lower) < \(higher)")
        }
        #expect(DebianVersion("1.0") == DebianVersion("1.00"))
        #expect(DebianVersion("0:1.0") == DebianVersion("1.0"))
        #expect(DebianVersion("1.0~~") < DebianVersion("1.0~"))
    }

    // MARK: pending updates, with apt as the oracle

    private func aptUpgradable(_ root: String, options: [String] = []) throws -> Set<String> {
        let cache = try ScratchTree()
        let result = try run(
            [
                "/usr/bin/apt", "list", "--upgradable", "-o", "Dir=" + root,
                "-o", "Dir::State::status=" + root + "/var/lib/dpkg/status", "-o", "Dir::Cache=" + cache.path,
            ] + options.flatMap { ["-o", $0] })
        return Set(
            result.output.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard words.count >= 6, let slash = words[0].firstIndex(of: "/") else { return nil }
                return "\(words[0][..<slash]) \(words[5].dropLast()) -> \(words[1])"
            })
    }

    private func ours(_ root: String) throws -> [PendingUpdate] {
        let facts = HostFacts.collect(from: try HostRoot(root), request: HostFacts.Request(sources: [.apt]))
        return try #require(facts.apt).pendingUpdates
    }

    private func answer(_ updates: [PendingUpdate]) -> Set<String> {
        Set(updates.map { "\($0.name) \($0.installed) -> \($0.candidate)" })
    }

    @Test(
        "fixture roots: the same pending updates as apt list --upgradable", arguments: ["debian-clean", "workstation"])
    func fixturesMatchApt(_ fixture: String) throws {
        let updates = try ours(Fixture.path(fixture))
        #expect(answer(updates) == (try aptUpgradable(Fixture.path(fixture))))
    }

    @Test(
        "pins and the default release are applied as apt applies them",
        arguments: [
            ("a version pin keeps openssl", "Package: openssl\nPin: version 3.0.19*\nPin-Priority: 1001\n", nil),
            (
                "the security archive lowered below the installed version",
                "Package: *\nPin: release a=oldstable-security\nPin-Priority: 50\n", nil
            ),
            (
                "every version from the origin refused", "Package: *\nPin: origin deb.debian.org\nPin-Priority: -1\n",
                nil
            ),
            (
                "a regex of names, a codename pin; a specific record before a general one",
                "Package: /^ca-/\nPin: release n=bookworm-security\nPin-Priority: 10\n\n"
                    + "Package: *\nPin: release n=bookworm-security\nPin-Priority: 990\n", nil
            ),
            (
                "a glob and a component, with a comment",
                "# local policy\nPackage: open*\nPin: release c=main, o=Debian\nPin-Priority: 99\n", nil
            ),
            ("the default release", "", "bookworm-updates"),
            (
                "the default release and a pin above it", "Package: apt\nPin: release n=bookworm\nPin-Priority: 995\n",
                "bookworm-updates"
            ),
        ] as [(String, String, String?)])
    func preferencesMatchApt(_ example: (String, String, String?)) throws {
        let (name, preferences, defaultRelease) = example
        let scratch = try Fixture.copy("workstation")
        if !preferences.isEmpty { try scratch.write("etc/apt/preferences.d/local.pref", preferences) }
        // Files apt ignores by their names: so does tenken.
        try scratch.write("etc/apt/preferences.d/old.disabled", "Package: *\nPin: release a=*\nPin-Priority: -10\n")
        var options: [String] = []
        if let defaultRelease {
            try scratch.write("etc/apt/apt.conf.d/10default", "APT::Default-Release \"\(defaultRelease)\";\n")
            // apt reads its configuration before -o Dir applies: given on the command line instead.
            options.append("APT::Default-Release=" + defaultRelease)
        }
        let ours = try self.ours(scratch.path)
        let apts = try aptUpgradable(scratch.path, options: options)
        #expect(answer(ours) == apts, Comment(rawValue: name))
        // Each example changes the answer: the pins are not a no-op that would match apt anyway.
        #expect(answer(ours) != answer(try self.ours(Fixture.path("workstation"))), Comment(rawValue: name))
    }

    @Test("a Release header: clearsigned or not, CRLF, fields after the hash lists, nothing read past its end")
    func releaseHeader() {
        let hashes = (0..<2000).map { _ in " \(String(repeating: "0", count: 64)) 123 main/binary-amd64/Packages\n" }
        let header =
            "Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nVersion: 12\nCodename: bookworm-security\n"
            + "SHA256:\n" + hashes.joined() + "NotAutomatic: yes\nButAutomaticUpgrades: yes\n"
        let signed =
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + header
            + "-----BEGIN PGP SIGNATURE-----\n\nSuite: planted\n-----END PGP SIGNATURE-----\n"
        for text in [header, signed, signed.replacing("\n", with: "\r\n")] {
            let release = AptRelease(Array(text.utf8))
            #expect(release.origin == "Debian" && release.label == "Debian-Security" && release.version == "12")
            #expect(release.suite == "stable-security" && release.codename == "bookworm-security")
            #expect(release.isSecurity && release.notAutomatic && release.butAutomaticUpgrades)
            #expect(release.defaultPriority == 100)
        }
        // Field names compare without case; a header without a suite is named by its codename.
        let lower = AptRelease(Array("origin: Debian\ncodename: bookworm\n".utf8))
        #expect(lower.origin == "Debian" && lower.name == "bookworm" && lower.defaultPriority == 500)
    }

    /// `security-updates-applied` alone, checked on the root.
    private func securityFinding(_ root: String) throws -> Finding {
        let policy = try PolicyLoader.loadDefault().selecting(["security-updates-applied"]).get()
        return try #require(
            Check.run(root: try HostRoot(root), policy: policy, now: Fixture.now).finding("security-updates-applied"))
    }

    @Test("a pin that keeps a security update away: apt no longer lists it, the security rule still fails")
    func pinnedAway() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.write(
            "etc/apt/preferences.d/keep", "Package: openssl\nPin: version 3.0.19*\nPin-Priority: 1001\n")
        let facts = HostFacts.collect(from: try HostRoot(scratch.path), request: HostFacts.Request(sources: [.apt]))
        let apt = try #require(facts.apt)
        #expect(!apt.pendingUpdates.contains { $0.name == "openssl" })
        #expect(apt.pinnedSecurityUpdates.map(\.name) == ["openssl"])
        let finding = try securityFinding(scratch.path)
        #expect(finding.status == .fail)
        let evidence = try #require(finding.evidence.first { $0.item == "openssl" })
        #expect(evidence.pinned == true && evidence.note?.en.contains("kept from being the candidate") == true)
    }

    @Test("a preferences record apt cannot use is an error for the update rules")
    func damagedPreferences() throws {
        let scratch = try Fixture.copy("workstation")
        try scratch.write("etc/apt/preferences", "Package: openssl\nPin-Priority: 1001\n")
        let facts = HostFacts.collect(from: try HostRoot(scratch.path), request: HostFacts.Request(sources: [.apt]))
        #expect(
            facts.issues.contains {
                $0.level == .error && $0.path == "/etc/apt/preferences" && $0.part == .packageLists
            })
    }

    @Test("a held package's update is still pending, as apt lists it, marked held, and still fails")
    func holds() throws {
        let scratch = try Fixture.copy("workstation")
        let status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        let held = status.replacing(
            /Package: openssl\nStatus: install ok installed/, with: "Package: openssl\nStatus: hold ok installed")
        #expect(held != status)
        try scratch.write("var/lib/dpkg/status", held)
        let updates = try ours(scratch.path)
        #expect(answer(updates) == (try aptUpgradable(scratch.path)))
        #expect(updates.first { $0.name == "openssl" }?.isHeld == true)
        #expect(updates.filter(\.isHeld).count == 1)
        let finding = try securityFinding(scratch.path)
        #expect(finding.status == .fail)
        let evidence = try #require(finding.evidence.first { $0.item == "openssl" })
        #expect(evidence.held == true && evidence.note?.en.contains("held with apt-mark hold") == true)
    }

    @Test("workstation: security suite, compressed list, older security version ignored, stale list ignored")
    func workstationDetails() throws {
        let updates = try ours(Fixture.path("workstation"))
        #expect(updates.filter(\.isSecurity).map(\.name) == ["apt", "ca-certificates", "openssl"])
        let openssl = try #require(updates.first { $0.name == "openssl" })
        #expect(openssl.candidate == "3.0.22-1~deb12u2")
        #expect(openssl.archives == ["oldstable-security"])
        // bookworm-security still carries libc6 2.36-9+deb12u7, older than the installed u14.
        #expect(!updates.contains { $0.name == "libc6" })
        // A list from a source no longer in sources.list offers apt 9.9.9: apt ignores it.
        #expect(updates.first { $0.name == "apt" }?.candidate == "2.6.2")
    }

    @Test("backports (NotAutomatic, ButAutomaticUpgrades) and experimental do not win, as with apt")
    func defaultPins() throws {
        let scratch = try Fixture.copy("workstation")
        let base = "var/lib/apt/lists/deb.debian.org_debian_dists_"
        let header = String(decoding: try scratch.read(base + "bookworm_Release"), as: UTF8.self)
        let record = String(decoding: try scratch.read(base + "bookworm_main_binary-amd64_Packages"), as: UTF8.self)
            .components(separatedBy: "\n\n").first { $0.hasPrefix("Package: dpkg\n") }!
        for (suite, flags) in [
            ("bookworm-backports", "NotAutomatic: yes\nButAutomaticUpgrades: yes\n"),
            ("experimental", "NotAutomatic: yes\n"),
        ] {
            try scratch.write(
                base + suite + "_Release",
                header.replacingOccurrences(of: "Suite: oldstable", with: "Suite: " + suite)
                    .replacingOccurrences(of: "Codename: bookworm", with: "Codename: " + suite) + flags)
            try scratch.write(
                base + suite + "_main_binary-amd64_Packages",
                record.replacingOccurrences(of: "Version: 1.21.23", with: "Version: 1.22.\(suite.count)") + "\n")
        }
        let sources = String(decoding: try scratch.read("etc/apt/sources.list.d/debian.sources"), as: UTF8.self)
        try scratch.write(
            "etc/apt/sources.list.d/debian.sources",
            sources.replacingOccurrences(
                of: "Suites: bookworm bookworm-updates",
                with: "Suites: bookworm bookworm-updates bookworm-backports experimental"))
        let updates = try ours(scratch.path)
        #expect(updates.first { $0.name == "dpkg" }?.candidate == "1.21.23")
        #expect(answer(updates) == (try aptUpgradable(scratch.path)))
    }

    @Test("this machine: the same pending updates as apt list --upgradable")
    func hostMatchesApt() throws {
        let facts = HostFacts.collect(from: try HostRoot("/"), request: HostFacts.Request(sources: [.apt]))
        let apt = try #require(facts.apt)
        #expect(answer(apt.pendingUpdates) == (try aptUpgradable("/")))
    }

    // MARK: stored list formats

    @Test(
        "gzip, xz, zstd and lz4 lists read the same as the plain one",
        arguments: [
            ("gz", ["/usr/bin/gzip", "-k"]), ("xz", ["/usr/bin/xz", "-k"]), ("zst", ["/usr/bin/zstd", "-q"]),
            ("lz4", ["/usr/bin/lz4", "-q", "-m"]),
        ])
    func compressedLists(_ format: (String, [String])) throws {
        let scratch = try Fixture.copy("debian-clean")
        let list =
            scratch.path
            + "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages"
        let before = try ours(scratch.path)
        let plainFacts = HostFacts.collect(
            from: try HostRoot(scratch.path), request: HostFacts.Request(sources: [.apt]))
        try run(format.1 + [list])
        try FileManager.default.removeItem(atPath: list)
        let facts = HostFacts.collect(from: try HostRoot(scratch.path), request: HostFacts.Request(sources: [.apt]))
        #expect(facts.apt?.listFiles.contains { $0.hasSuffix("_Packages." + format.0) } == true)
        #expect(facts.apt?.pendingUpdates == before)
        #expect(facts.issues.isEmpty && plainFacts.issues.isEmpty)

        // Cut the compressed file short: an error naming it, never a silently shorter list.
        let compressed =
            "var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages."
            + format.0
        let bytes = try scratch.read(compressed)
        try scratch.write(compressed, Array(bytes.prefix(bytes.count / 2)))
        let damaged = HostFacts.collect(from: try HostRoot(scratch.path), request: HostFacts.Request(sources: [.apt]))
        #expect(damaged.issues.contains { $0.source == .apt && $0.message.en.contains("damaged or truncated") })
    }

    @Test("a list read in chunks of any size parses as the whole: stanzas cut anywhere, CRLF too")
    func streamedInChunks() throws {
        let path =
            Fixture.path("workstation")
            + "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"
        let plain = Array(try Data(contentsOf: URL(filePath: path)))
        let crlf = Array(String(decoding: plain, as: UTF8.self).replacing("\n", with: "\r\n").utf8)
        let names = Set(["apt", "bash", "openssl", "ca-certificates", "libc6", "qbittorrent"])
        for bytes in [plain, crlf] {
            let whole = bytes.withUnsafeBufferPointer { AptIndex.parse($0, names: names) }
            #expect(!whole.offers.isEmpty)
            for size in [1, 2, 3, 7, 64, 1000, 4096, bytes.count] {
                var stream = ListStream(names: names)
                var start = 0
                while start < bytes.count {
                    let end = min(bytes.count, start + size)
                    _ = bytes[start..<end].withUnsafeBufferPointer { stream.feed($0) }
                    start = end
                }
                stream.finish()
                #expect(stream.offers == whole.offers && stream.damaged == whole.damaged, "chunks of \(size)")
            }
        }
    }

    @Test("a decompression bomb costs little memory and is refused by its size; a list with no stanza end is damaged")
    func decompressionBomb() throws {
        let scratch = try Fixture.copy("workstation")
        let list = "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm-updates_main_binary-amd64_Packages"
        try scratch.remove(list)
        // 100 MB of empty lines, gzipped to about 100 KB: inflated whole, it would take 100 MB.
        try run([
            "/bin/sh", "-c", "head -c 100000000 /dev/zero | tr '\\0' '\\n' | gzip -1 > \"$0\"",
            scratch.path + "/" + list + ".gz",
        ])
        let measured = try run([
            "/usr/bin/python3", "-c",
            "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
                + "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
            Programs.tenken, "check", "--json", "--root", scratch.path, "--rules", "security-updates-applied",
        ])
        let peak = Int(measured.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .max
        #expect(peak < 64 * 1024, "peak resident memory \(peak) KB")
        // Past the inflation bound it is refused (the bound is lowered here to keep the test short).
        let directory = try HostRoot(scratch.path).directory("/var/lib/apt/lists")
        #expect(throws: HostReadError.self) {
            try CompressedFile.parseList(
                directory, FileName(String(list.split(separator: "/").last!) + ".gz"), format: TENKEN_GZIP,
                path: list, names: ["apt"], limit: 1 << 30, inflatedLimit: 10 << 20)
        }
        // A list that never ends a stanza (zeros) is damaged, found without reading it all.
        try scratch.remove(list + ".gz")
        try run([
            "/bin/sh", "-c", "head -c 100000000 /dev/zero | gzip -1 > \"$0\"", scratch.path + "/" + list + ".gz",
        ])
        let zeros = HostFacts.collect(from: try HostRoot(scratch.path), request: HostFacts.Request(sources: [.apt]))
        #expect(
            zeros.issues.contains { $0.kind == .damaged && $0.path?.hasSuffix(".gz") == true },
            "\(zeros.issues.map(\.message.en))")
    }

    // MARK: configuration and state

    @Test("apt.conf: nested scopes, comments, later files win, backups ignored")
    func aptConfig() throws {
        let scratch = try ScratchTree()
        try scratch.write("etc/apt/apt.conf.d/10periodic", "APT { Periodic { Unattended-Upgrade \"0\"; }; };\n")
        try scratch.write(
            "etc/apt/apt.conf.d/20auto-upgrades",
            "// enable\n/* block\n comment */ APT::Periodic::Unattended-Upgrade \"1\"; # trailing\n")
        try scratch.write("etc/apt/apt.conf.d/99disable.dpkg-old", "APT::Periodic::Unattended-Upgrade \"0\";\n")
        try scratch.write("etc/apt/apt.conf.d/99off.orig", "APT::Periodic::Unattended-Upgrade \"0\";\n")
        let config = AptConfig(try HostRoot(scratch.path))
        #expect(config["APT::Periodic::Unattended-Upgrade"]?.value == "1")
        #expect(config["apt::periodic::unattended-upgrade"]?.file == "/etc/apt/apt.conf.d/20auto-upgrades")
    }

    @Test("sources: one-line with options, deb822 with Enabled: no, flat repositories")
    func sources() {
        #expect(
            AptSources.oneLine(
                "deb [arch=amd64 signed-by=/k.gpg] http://ftp.jp.debian.org/debian/ bookworm main\n"
                    + "# deb http://x y z\ndeb-src http://a b c"
            ).map(\.suite) == ["bookworm"])
        #expect(
            AptSources.deb822(
                "Types: deb deb-src\nURIs: http://a/debian http://b/debian\nSuites: s1 s2\nComponents: main\n\n"
                    + "Types: deb\nEnabled: no\nURIs: http://c\nSuites: s3\n"
            ).count == 4)
        #expect(
            AptSources.listPrefix(uri: "http://deb.debian.org/debian-security/", suite: "bookworm-security")
                == "deb.debian.org_debian-security_dists_bookworm-security_")
        #expect(
            AptSources.listPrefix(uri: "https://user:pw@repo.example.jp/apt", suite: "./") == "repo.example.jp_apt_")
    }

    @Test("stale lists fail; a recent upgrade of something else does not excuse a pending security update")
    func agesAndGrace() throws {
        let scratch = try Fixture.copy("workstation")
        let old = Int(Date().timeIntervalSince1970) - 30 * 86_400
        for name in try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/var/lib/apt/lists") {
            var times = [timespec(tv_sec: old, tv_nsec: 0), timespec(tv_sec: old, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, scratch.path + "/var/lib/apt/lists/" + name, &times, 0) == 0)
        }
        // An upgrade two days ago used to count as "patched recently"; it no longer decides.
        let recent = Date(timeIntervalSinceNow: -2 * 86_400)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        try scratch.write(
            "var/log/dpkg.log", "\(formatter.string(from: recent)) upgrade bash:amd64 5.2.15-2+b7 5.2.15-2+b8\n")
        let report = Check.run(root: try HostRoot(scratch.path), policy: try PolicyLoader.loadDefault())
        #expect(report.finding("package-lists-fresh")?.status == .fail)
        #expect(report.finding("security-updates-applied")?.status == .fail)
    }

    @Test("no lists at all: pending updates cannot be known (error), lists never fetched (fail)")
    func noLists() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.remove("var/lib/apt/lists")
        let report = Check.run(
            root: try HostRoot(scratch.path), policy: try PolicyLoader.loadDefault(), now: Fixture.now)
        #expect(report.finding("security-updates-applied")?.status == .error)
        #expect(report.finding("package-lists-fresh")?.status == .fail)
    }

    @Test("with a cache directory, unchanged lists are not parsed again, with the same answer; a changed one is")
    func listCache() throws {
        let scratch = try Fixture.copy("debian-clean")
        let stateTree = try ScratchTree()
        let state = try StateDirectory(stateTree.path + "/state")
        var request = HostFacts.Request(sources: [.apt])
        request.cacheDirectory = state
        let root = try HostRoot(scratch.path)
        let first = try #require(HostFacts.collect(from: root, request: request).apt)
        #expect(first.listsReused == 0 && !first.listFiles.isEmpty)
        let second = try #require(HostFacts.collect(from: root, request: request).apt)
        #expect(second.listsReused == first.listFiles.count)
        #expect(second.pendingUpdates.map(\.name) == first.pendingUpdates.map(\.name))
        #expect(second.packageTags == first.packageTags)
        let list = "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"
        try scratch.write(list, try scratch.read(list) + Array("\n".utf8))
        let third = try #require(HostFacts.collect(from: root, request: request).apt)
        #expect(third.listsReused == first.listFiles.count - 1)
    }
}
