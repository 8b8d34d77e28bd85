import Crypto
import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// Nothing on the disk is out of sight: a real client from Debian, renamed, without an execute
/// bit, kept anywhere on the root's file systems (not only where programs usually live), on a
/// file system mounted below the root, or over a package's file whose records were touched, is
/// found by what it is; the same root without it passes.
@Suite("hiding places", .serialized)
struct HidingPlacesTests {
    private func p2p(_ root: String) throws -> Finding { try Fixture.finding("no-p2p-software", at: root) }

    private func client() throws -> [UInt8] {
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("transmission-cli", into: unpacked.path)
        return try unpacked.read("usr/bin/transmission-cli")
    }

    /// /usr/bin/dircolors as coreutils installed it, with its list and md5sums.
    private func ownDircolors(_ scratch: ScratchTree) throws {
        let original = Array("dircolors as installed\n".utf8)
        try scratch.write("usr/bin/dircolors", original, mode: 0o755)
        let digest = Insecure.MD5.hash(data: original).map { String(format: "%02x", $0) }.joined()
        try scratch.write("var/lib/dpkg/info/coreutils.list", "/.\n/usr\n/usr/bin\n/usr/bin/dircolors\n")
        try scratch.write("var/lib/dpkg/info/coreutils.md5sums", "\(digest)  usr/bin/dircolors\n")
    }

    /// Places no list of programs' places names, and names and modes that say nothing.
    static let places = [
        "mnt/data/backup.dat", "media/alice/USB STICK/tool", "run/media/alice/STICK/x",
        "var/lib/docker/overlay2/0a1b2c/diff/usr/bin/helper", "var/opt/app/bin/helper.bin", "var/www/html/cgi",
        "boot/grub/x.mod", "etc/skel/.local/bin/run", "usr/share/app/data.dat", "home/alice/Documents/notes.txt",
        "var/lib/machines/box/usr/lib/x86_64-linux-gnu/libhelper.so.1",
    ]

    @Test("a client kept anywhere, under any name and with mode 0644, is found by what it is", arguments: places)
    func anywhere(_ place: String) throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write(place, try client(), mode: 0o644)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail, "\(finding.evidence.map(\.item))")
        #expect(
            finding.evidence.contains {
                $0.item == "/" + place && $0.reason?.en.contains("contains the BitTorrent handshake") == true
            }, "\(finding.evidence.map { ($0.item, $0.reason?.en ?? "") })")
        try scratch.remove(place)
        #expect(try p2p(scratch.path).status == .pass)
    }

    @Test(
        "a Windows client named .scr, .com or .dat anywhere is found by its version resource",
        .enabled(if: WindowsProgram.available),
        arguments: ["var/www/html/screen.scr", "srv/x/run.com", "var/cache/a.dat"])
    func windowsAnywhere(_ place: String) throws {
        let scratch = try Fixture.copy("debian-clean")
        let program = try WindowsProgram.build([("ProductName", "Winny"), ("OriginalFilename", "Winny.exe")])
        try scratch.write(place, program, mode: 0o644)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.evidence.contains { $0.item == "/" + place }, "\(finding.evidence.map(\.item))")
    }

    @Test("a client over a package's file stays found after touch on the package's list and md5sums")
    func touchedRecords() throws {
        let scratch = try Fixture.copy("debian-clean")
        try ownDircolors(scratch)
        // ctime has whole-second resolution in the comparison: the replacement comes a second later.
        Thread.sleep(forTimeInterval: 1.1)
        try scratch.write("usr/bin/dircolors", try client(), mode: 0o755)
        Thread.sleep(forTimeInterval: 1.1)
        let touched = try run([
            "/usr/bin/touch", scratch.path + "/var/lib/dpkg/info/coreutils.list",
            scratch.path + "/var/lib/dpkg/info/coreutils.md5sums",
        ])
        #expect(touched.status == 0)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        let evidence = try #require(finding.evidence.first { $0.item == "/usr/bin/dircolors" })
        #expect(evidence.reason?.en.contains("it replaced a file of the package coreutils") == true)
    }

    @Test("a local dpkg-divert of a package's file to a private path leaves both paths to be read by content")
    func localDiversion() throws {
        let scratch = try Fixture.copy("debian-clean")
        try ownDircolors(scratch)
        try FileManager.default.createDirectory(
            atPath: scratch.path + "/var/lib/private", withIntermediateDirectories: true)
        let diverted = try run([
            "/usr/bin/dpkg-divert", "--admindir", scratch.path + "/var/lib/dpkg", "--instdir", scratch.path,
            "--local", "--rename", "--divert", "/var/lib/private/dircolors", "/usr/bin/dircolors",
        ])
        try #require(diverted.status == 0, "\(diverted.error)")
        #expect(try p2p(scratch.path).status == .pass)
        // The client kept at the diverted-to path, which dpkg's list still seems to name.
        try scratch.write("var/lib/private/dircolors", try client(), mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.evidence.contains { $0.item == "/var/lib/private/dircolors" })
    }

    @Test("file systems mounted below the root are walked (a USB stick's); the kernel's pseudo ones are not")
    func mountedFileSystems() throws {
        let scratch = try Fixture.copy("debian-clean")
        let stick = scratch.path + "/media/alice/STICK"
        let proc = scratch.path + "/proc"
        for path in [stick, proc] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let mounted = try run(["/usr/bin/mount", "-t", "tmpfs", "-o", "size=32m", "tenken-stick", stick])
        try #require(mounted.status == 0, "\(mounted.error)")
        defer { _ = try? run(["/usr/bin/umount", "--lazy", stick]) }
        let procMounted = try run(["/usr/bin/mount", "-t", "proc", "proc", proc])
        try #require(procMounted.status == 0, "\(procMounted.error)")
        defer { _ = try? run(["/usr/bin/umount", "--lazy", proc]) }
        #expect(try p2p(scratch.path).status == .pass)
        try scratch.write("media/alice/STICK/portable/tool", try client(), mode: 0o644)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.evidence.contains { $0.item == "/media/alice/STICK/portable/tool" })

        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        let facts = HostFacts.collect(from: try HostRoot(scratch.path), request: policy.factRequest)
        let met = Dictionary(facts.fileSystemsMet.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(met["/media/alice/STICK"]?.type == "tmpfs" && met["/media/alice/STICK"]?.treatment == .walked)
        #expect(met["/proc"]?.type == "proc" && met["/proc"]?.treatment == .pseudo)
        #expect(facts.walkCounts.directoriesRead < 1000, "proc was not walked")

        // A policy that excludes a path names it, and walks nothing below it.
        var request = policy.factRequest
        request.fileSystems.excluded = ["/media/alice"]
        let excluded = HostFacts.collect(from: try HostRoot(scratch.path), request: request)
        #expect(excluded.fileSystemsMet.contains { $0.path == "/media/alice" && $0.treatment == .excluded })
        #expect(!excluded.programCandidates.contains { $0.path.display.hasPrefix("/media/alice/") })
    }

    @Test("files that are no program are not kept, whatever their mode: text, data, objects")
    func notPrograms() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("var/www/html/index.html", String(repeating: "<p>hello</p>\n", count: 50))
        try scratch.write("srv/data/blob", [UInt8](repeating: 0xAB, count: 4096))
        // A relocatable object (ET_REL) is nothing the loader runs.
        var object = [UInt8](repeating: 0, count: 128)
        object.replaceSubrange(0..<4, with: ElfImage.magic)
        object[4] = 2
        object[5] = 1
        object[16] = 1
        try scratch.write("srv/data/module.o", object)
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        let facts = HostFacts.collect(from: try HostRoot(scratch.path), request: policy.factRequest)
        let kept = Set(facts.programCandidates.map(\.path.display))
        #expect(kept.isDisjoint(with: ["/var/www/html/index.html", "/srv/data/blob", "/srv/data/module.o"]))
        #expect(facts.walkCounts.headsRead >= 3)
        #expect(try p2p(scratch.path).status == .pass)
    }
}
