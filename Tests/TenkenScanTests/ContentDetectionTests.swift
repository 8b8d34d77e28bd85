import Crypto
import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// Forbidden software is found by what it is: real clients from Debian's archive, renamed and
/// put where no package owns them, copied over an owned file, or installed as packages the
/// catalog does not name; and the same root without them passes.
@Suite("forbidden software by content")
struct ContentDetectionTests {
    private func p2p(_ root: String) throws -> Finding { try Fixture.finding("no-p2p-software", at: root) }

    /// A program of a Debian package, taken out of it and put at `place` under another name.
    struct Placement: Sendable, CustomTestStringConvertible {
        let package: String
        let member: String
        let place: String
        let reason: String
        let status: Finding.Status
        var testDescription: String { "\(package) as /\(place)" }
    }

    static let placements = [
        Placement(
            package: "transmission-cli", member: "usr/bin/transmission-cli", place: "home/alice/bin/notes",
            reason: "contains the BitTorrent handshake", status: .fail),
        Placement(
            package: "qbittorrent-nox", member: "usr/bin/qbittorrent-nox", place: "opt/something/bin/helper",
            reason: "links libtorrent-rasterbar.so.2.0", status: .fail),
        Placement(
            package: "rtorrent", member: "usr/bin/rtorrent", place: "usr/local/bin/x",
            reason: "links libtorrent.so.21", status: .fail),
        Placement(
            package: "ctorrent", member: "usr/bin/ctorrent", place: "tmp/.cache/y",
            reason: "contains the tracker-list key of .torrent files, the peer-id parameter", status: .fail),
        Placement(
            package: "amule-daemon", member: "usr/bin/amuled", place: "srv/shared/z",
            reason: "contains the eD2k server-list file name, the Kademlia node-list file name", status: .fail),
        Placement(
            package: "microdc2", member: "usr/bin/microdc2", place: "var/tmp/dc",
            reason: "contains the Direct Connect login command", status: .fail),
        Placement(
            package: "transmission-cli", member: "usr/bin/transmission-remote", place: "usr/lib/notes/remote",
            reason: "contains the BitTorrent handshake", status: .fail),
        Placement(
            package: "aria2", member: "usr/bin/aria2c", place: "home/alice/bin/dl",
            reason: "links libaria2.so.0", status: .warn),
    ]

    @Test("a client taken out of its package, renamed and put where no package owns it is found", arguments: placements)
    func renamedUnowned(_ placement: Placement) throws {
        let scratch = try Fixture.copy("debian-clean")
        #expect(try p2p(scratch.path).status == .pass)
        let unpacked = try ScratchTree()
        try DebianArchive.unpack(placement.package, into: unpacked.path)
        try scratch.write(placement.place, try unpacked.read(placement.member), mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == placement.status, "\(finding.evidence.map(\.item))")
        let matches = finding.evidence.filter { $0.item == "/" + placement.place }
        #expect(
            matches.contains { $0.source == .file && $0.reason?.en.contains(placement.reason) == true },
            "\(matches.map { $0.reason?.en ?? "" })")
        #expect(finding.errors.isEmpty, "\(finding.errors)")
        try scratch.remove(placement.place)
        #expect(try p2p(scratch.path).status == .pass)
    }

    @Test("a client copied over a file a package owns is found once its md5sum differs; owned files are left alone")
    func copiedOverOwnedFile() throws {
        let scratch = try Fixture.copy("debian-clean")
        let original = Array("dircolors as installed\n".utf8)
        try scratch.write("usr/bin/dircolors", original, mode: 0o755)
        try scratch.write("var/lib/dpkg/info/coreutils.list", "/.\n/usr\n/usr/bin\n/usr/bin/dircolors\n")
        try scratch.write("var/lib/dpkg/info/coreutils.md5sums", "\(md5(original))  usr/bin/dircolors\n")
        var facts = collect(scratch.path)
        #expect(facts.contentCounts.ownedUnchanged == 1)
        // The fixture's other programs have no file lists: they are unowned and inspected.
        let unowned = facts.contentCounts.inspected
        #expect(try p2p(scratch.path).status == .pass)

        // Changed since its list was written (here: the list is older), but still what dpkg installed.
        try age(scratch.path + "/var/lib/dpkg/info/coreutils.list")
        facts = collect(scratch.path)
        #expect(facts.contentCounts.verifiedByChecksum == 1 && facts.contentCounts.inspected == unowned)
        #expect(try p2p(scratch.path).status == .pass)

        let unpacked = try ScratchTree()
        try DebianArchive.unpack("transmission-cli", into: unpacked.path)
        try scratch.write("usr/bin/dircolors", try unpacked.read("usr/bin/transmission-cli"), mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        let evidence = try #require(finding.evidence.first { $0.item == "/usr/bin/dircolors" })
        #expect(evidence.reason?.en.contains("it replaced a file of the package coreutils") == true)
    }

    @Test("a diversion moves ownership: a locally diverted path and a diverted-to path are nobody's")
    func diversions() throws {
        let scratch = try Fixture.copy("debian-clean")
        let original = Array("dircolors as installed\n".utf8)
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("transmission-cli", into: unpacked.path)
        // dpkg-divert --local --rename /usr/bin/dircolors: the package's file now lives at .distrib.
        try scratch.write("usr/bin/dircolors.distrib", original, mode: 0o755)
        try scratch.write("usr/bin/dircolors", try unpacked.read("usr/bin/transmission-cli"), mode: 0o755)
        try scratch.write("var/lib/dpkg/info/coreutils.list", "/.\n/usr\n/usr/bin\n/usr/bin/dircolors\n")
        try scratch.write("var/lib/dpkg/info/coreutils.md5sums", "\(md5(original))  usr/bin/dircolors\n")
        try scratch.write("var/lib/dpkg/diversions", "/usr/bin/dircolors\n/usr/bin/dircolors.distrib\n:\n")
        // The diverted-to path is nobody's: read by content (harmless here), as the client is.
        let facts = collect(scratch.path)
        #expect(facts.contentCounts.ownedUnchanged == 0)
        #expect(facts.programCandidates.contains { $0.path.display == "/usr/bin/dircolors.distrib" && $0.owner == nil })
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        let evidence = try #require(finding.evidence.first { $0.item == "/usr/bin/dircolors" })
        #expect(evidence.reason?.en.contains("replaced") == false)
        #expect(!finding.evidence.contains { $0.item == "/usr/bin/dircolors.distrib" })
    }

    @Test(
        "a library search path naming an engine is a hint only",
        .enabled(if: Needs.underCI || Programs.clang != nil, "needs clang (the Swift toolchain's)"))
    func searchPathHint() throws {
        let scratch = try Fixture.copy("debian-clean")
        let source = try ScratchTree()
        try source.write("tool.c", "int main(void) { return 0; }\n")
        let compiler = try #require(Programs.clang)
        let built = try run([
            compiler, "-O1", "-Wl,-rpath,/opt/app/libtorrent-rasterbar/lib", "-o", source.path + "/tool",
            source.path + "/tool.c",
        ])
        #expect(built.status == 0, "\(built.error)")
        try scratch.write("opt/app/bin/tool", try source.read("tool"), mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .warn)
        #expect(finding.evidence.first?.confidence == .weak)
        #expect(
            finding.evidence.first?.reason?.en
                == "its library search path /opt/app/libtorrent-rasterbar/lib names the engine")
    }

    @Test("a file list of a package that is not installed owns nothing")
    func plantedListOwnsNothing() throws {
        let scratch = try Fixture.copy("debian-clean")
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("transmission-cli", into: unpacked.path)
        let client = try unpacked.read("usr/bin/transmission-cli")
        try scratch.write("usr/local/bin/notes", client, mode: 0o755)
        try scratch.write("var/lib/dpkg/info/notes.list", "/usr/local/bin/notes\n")
        try scratch.write("var/lib/dpkg/info/notes.md5sums", "\(md5(client))  usr/local/bin/notes\n")
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.evidence.contains { $0.item == "/usr/local/bin/notes" })
    }

    @Test("a symlink on the PATH to a client kept elsewhere is found under the command's name")
    func linkOnPath() throws {
        let scratch = try Fixture.copy("debian-clean")
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("rtorrent", into: unpacked.path)
        try scratch.write("var/lib/misc/helper/client", try unpacked.read("usr/bin/rtorrent"), mode: 0o755)
        try FileManager.default.createDirectory(
            atPath: scratch.path + "/usr/local/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/usr/local/bin/notes", withDestinationPath: "/var/lib/misc/helper/client")
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.evidence.contains { $0.item == "/usr/local/bin/notes" && $0.reason != nil })
    }

    @Test("packages the catalog does not name are known by their engine and their Debian tag; dual-use warns")
    func packageMetadata() throws {
        let scratch = try Fixture.copy("debian-clean")
        try installPackages(
            scratch,
            [
                ("ctorrent", "1.3.4.dnh3.3.2-5+b1", "libc6 (>= 2.17), libstdc++6 (>= 5)", "protocol::bittorrent"),
                ("btfs", "2.24-1", "libfuse2 (>= 2.8), libtorrent-rasterbar2.0 (>= 2.0.6)", nil),
                ("libtorrent-rasterbar2.0", "2.0.8-1+b1", "libc6 (>= 2.34), libssl3 (>= 3.0.0)", "role::shared-lib"),
                ("nbdkit", "1.32.5-1", "libc6 (>= 2.34), libtorrent-rasterbar2.0 (>= 2.0.6)", nil),
                ("gpodder", "3.11.1-1", "python3:any", "interface::graphical, protocol::bittorrent"),
            ])
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        let byItem = Dictionary(grouping: finding.evidence.filter { $0.source == .dpkg }, by: \.item)
        #expect(Set(byItem.keys) == ["ctorrent", "btfs", "nbdkit", "gpodder"], "\(byItem.keys)")
        #expect(byItem["ctorrent"]?.first?.reason?.en == "Debian tags it protocol::bittorrent")
        #expect(byItem["ctorrent"]?.allSatisfy(\.decides) == true)
        #expect(byItem["btfs"]?.first?.reason?.en == "depends on the P2P engine libtorrent-rasterbar2.0")
        #expect(byItem["btfs"]?.allSatisfy(\.decides) == true)
        #expect(byItem["nbdkit"]?.allSatisfy { $0.dualUse == true && $0.confidence == .strong } == true)
        #expect(byItem["gpodder"]?.allSatisfy { $0.dualUse == true } == true)

        let dualUseOnly = try Fixture.copy("debian-clean")
        try installPackages(
            dualUseOnly,
            [
                ("libtorrent-rasterbar2.0", "2.0.8-1+b1", "libc6 (>= 2.34)", "role::shared-lib"),
                ("nbdkit", "1.32.5-1", "libc6 (>= 2.34), libtorrent-rasterbar2.0 (>= 2.0.6)", nil),
                ("gpodder", "3.11.1-1", "python3:any", "protocol::bittorrent"),
            ])
        let warned = try p2p(dualUseOnly.path)
        #expect(warned.status == .warn)
        #expect(Messages(.en).describe(try #require(warned.evidence.first)).contains("dual-use"))
    }

    @Test(
        "stand-ins for clients Debian does not ship (gtk-gnutella, Nicotine+, WebTorrent) are found by their protocol",
        .enabled(if: Needs.underCI || Programs.clang != nil, "needs clang (the Swift toolchain's)"))
    func standIns() throws {
        let scratch = try Fixture.copy("debian-clean")
        let signatures = try catalogSignatures()
        // An ELF program with Gnutella's constants in its read-only data, as gtk-gnutella has them.
        let source = try ScratchTree()
        let strings = try #require(signatures["gnutella"]).prefix(2).map { bytes in
            "\"" + bytes.map { String(format: "\\x%02x", $0) }.joined() + "\""
        }
        try source.write(
            "gnutella.c",
            "#include <stdio.h>\nconst char *table[] = {\(strings.joined(separator: ", "))};\n"
                + "int main(int c, char **v) { puts(table[c % 2]); return 0; }\n")
        let compiler = try #require(Programs.clang)
        let built = try run([compiler, "-O1", "-o", source.path + "/gnutella", source.path + "/gnutella.c"])
        #expect(built.status == 0, "\(built.error)")
        try scratch.write("home/alice/.local/bin/gtk-gnutella-helper", try source.read("gnutella"), mode: 0o755)
        // Scripts are searched whole: Nicotine+ is Python, WebTorrent runs on node.
        let soulseek = try #require(signatures["soulseek"])
        try scratch.write(
            "home/alice/bin/music", Array("#!/usr/bin/python3\n".utf8) + soulseek.joined(separator: [0x0A]),
            mode: 0o755)
        let torrent = try #require(signatures["bittorrent"])
        try scratch.write(
            "opt/tools/share", Array("#!/usr/bin/env node\n".utf8) + torrent.prefix(2).joined(separator: [0x0A]),
            mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        let found = Dictionary(finding.evidence.map { ($0.item, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(found["/home/alice/.local/bin/gtk-gnutella-helper"]?.software == "Gnutella")
        #expect(found["/home/alice/bin/music"]?.software == "Soulseek")
        #expect(found["/opt/tools/share"]?.software == "BitTorrent")
        #expect(finding.evidence.allSatisfy { $0.confidence == .strong })
    }

    @Test("one signature alone is weak and only warns; a file without an execute bit is not a program")
    func oneSignatureIsWeak() throws {
        let scratch = try Fixture.copy("debian-clean")
        let torrent = try #require(try catalogSignatures()["bittorrent"])
        try scratch.write("home/alice/bin/tool", Array("#!/bin/sh\n".utf8) + torrent[1], mode: 0o755)
        try scratch.write("home/alice/notes.txt", torrent[0] + [0x0A] + torrent[1], mode: 0o644)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .warn)
        #expect(finding.evidence.map(\.item) == ["/home/alice/bin/tool"])
        #expect(finding.evidence.first?.confidence == .weak)
    }

    @Test("a signature counts as a whole word, and across the boundary of two chunks")
    func wholeWordsAndChunks() throws {
        let rules = try PolicyLoader.loadDefault().catalog.contentRules(for: ["p2p"])
        let torrent = try #require(try catalogSignatures()["bittorrent"])
        let name = torrent[1]  // a whole-word one: the metadata extension's name
        func found(_ bytes: [UInt8]) throws -> Int {
            let scratch = try ScratchTree()
            try scratch.write("file", bytes, mode: 0o755)
            let fd = open(scratch.path + "/file", O_RDONLY)
            defer { close(fd) }
            let inspector = ProgramInspector(rules: rules)
            return try inspector.inspect(FileWindow(fd: fd, size: bytes.count, path: "file")).signatures.count
        }
        #expect(try found(Array("cargo_outp".utf8) + name + [0]) == 0)
        #expect(try found([0] + name + Array("_id".utf8)) == 0)
        #expect(try found([0] + name + [0]) == 1)
        // The handshake counts anywhere, as in a Go program whose strings run together.
        #expect(try found(Array("PCT".utf8) + torrent[0] + Array("embedded".utf8)) == 1)
        let chunk = ProgramInspector.chunkSize
        for offset in [chunk - name.count - 1, chunk - 5, chunk - 1, chunk, 2 * chunk - 3] {
            var bytes = [UInt8](repeating: 0, count: 3 * chunk)
            bytes.replaceSubrange(offset..<(offset + name.count), with: name)
            #expect(try found(bytes) == 1, "at \(offset)")
            bytes[offset - 1] = 0x61
            #expect(try found(bytes) == 0, "after a letter at \(offset)")
        }
    }

    @Test("tenken's own programs carry nothing a check looks for")
    func ownPrograms() throws {
        let rules = try PolicyLoader.loadDefault().catalog.contentRules(for: ["p2p", "cloud-sync", "remote-access"])
        for path in [Programs.tenken, CommandLine.arguments[0]] {
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            var info = stat()
            #expect(fstat(fd, &info) == 0)
            let inspector = ProgramInspector(rules: rules)
            let result = try inspector.inspect(FileWindow(fd: fd, size: Int(info.st_size), path: path))
            #expect(result.format == .elf)
            #expect(result.linked.isEmpty && result.signatures.isEmpty, "\(path): \(result.signatures)")
        }
    }

    @Test("damaged ELF headers never crash the reader; a file whose headers cannot be trusted is searched whole")
    func damagedHeaders() throws {
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("rtorrent", into: unpacked.path)
        let original = try unpacked.read("usr/bin/rtorrent")
        let rules = try PolicyLoader.loadDefault().catalog.contentRules(for: ["p2p"])
        var generator = SeededGenerator(seed: 15)
        var searchedWhole = 0
        for round in 0..<300 {
            var bytes = original
            // Damage the ELF header, the program headers or the section headers' table.
            let region = [0..<64, 64..<(64 + 56 * 13), (bytes.count - 64 * 30)..<bytes.count][round % 3]
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                bytes[Int.random(in: region, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if round % 50 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...4096, using: &generator))) }
            try unpacked.write("damaged", bytes, mode: 0o755)
            let fd = open(unpacked.path + "/damaged", O_RDONLY)
            defer { close(fd) }
            let inspector = ProgramInspector(rules: rules)
            let result = try inspector.inspect(FileWindow(fd: fd, size: bytes.count, path: "damaged"))
            if result.format == .other { searchedWhole += 1 }
            if bytes.count == original.count {
                // The constants are still there, whatever the headers say.
                #expect(!result.signatures.isEmpty, "round \(round)")
            }
        }
        #expect(searchedWhole > 0)
    }

    @Test(
        "a renamed Windows program is known by its version resource, in a Wine prefix or not",
        .enabled(if: Needs.underCI || WindowsProgram.available, "needs binutils-mingw-w64-x86-64 and clang"))
    func windowsVersionResource() throws {
        let scratch = try Fixture.copy("debian-clean")
        let prefix = "home/alice/.wine/drive_c/Program Files/tools/"
        try scratch.write(
            prefix + "notes.exe",
            try WindowsProgram.build([
                ("CompanyName", "Isamu Kaneko"), ("FileDescription", "Winny"), ("OriginalFilename", "Winny.exe"),
                ("ProductName", "Winny"),
            ]))
        try scratch.write(prefix + "viewer.exe", try WindowsProgram.build([("ProductName", "Share")]))
        try scratch.write(
            "home/alice/Downloads/setup.exe", try WindowsProgram.build([("InternalName", "PerfectDark")]))
        try scratch.write(
            prefix + "editor.exe",
            try WindowsProgram.build([("ProductName", "Notepad++"), ("OriginalFilename", "notepad++.exe")]))
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        let found = Dictionary(finding.evidence.map { ($0.item, $0) }, uniquingKeysWith: { first, _ in first })
        let winny = try #require(found["/" + prefix + "notes.exe"])
        #expect(winny.software == "Winny" && winny.source == .wine && winny.confidence == .confirmed)
        #expect(winny.reason?.en == "its version resource says OriginalFilename Winny.exe, CompanyName Isamu Kaneko")
        #expect(found["/" + prefix + "viewer.exe"]?.reason?.en == "its version resource says ProductName Share")
        #expect(found["/home/alice/Downloads/setup.exe"]?.source == .file)
        #expect(found["/home/alice/Downloads/setup.exe"]?.software == "Perfect Dark")
        #expect(found["/" + prefix + "editor.exe"] == nil)
        #expect(finding.errors.isEmpty, "\(finding.errors)")
    }

    @Test(
        "damaged Windows programs never crash the reader",
        .enabled(if: Needs.underCI || WindowsProgram.available, "needs binutils-mingw-w64-x86-64 and clang"))
    func damagedWindowsPrograms() throws {
        let original = try WindowsProgram.build([("OriginalFilename", "Winny.exe"), ("ProductName", "Winny")])
        let rules = try PolicyLoader.loadDefault().catalog.contentRules(for: ["p2p"])
        var generator = SeededGenerator(seed: 16)
        let scratch = try ScratchTree()
        var named = 0
        for round in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if round % 40 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            try scratch.write("damaged.exe", bytes)
            let fd = open(scratch.path + "/damaged.exe", O_RDONLY)
            defer { close(fd) }
            let inspector = ProgramInspector(rules: rules)
            do {
                let result = try inspector.inspect(FileWindow(fd: fd, size: bytes.count, path: "damaged.exe"))
                if result.windows?.strings["OriginalFilename"] == "Winny.exe" { named += 1 }
            } catch {
                // Only a read of the file itself may fail; damage is never thrown past the inspector.
                Issue.record("round \(round): \(error)")
            }
        }
        #expect(named > 100)
    }

    @Test(
        "an AppImage is known by what is inside it, whatever its name and compression",
        .enabled(if: Needs.underCI || (Programs.clang != nil && mksquashfs), "needs clang and squashfs-tools"),
        arguments: ["gzip", "xz", "zstd"])
    func appImages(_ compression: String) throws {
        let scratch = try Fixture.copy("debian-clean")
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("qbittorrent-nox", into: unpacked.path)
        let client = try unpacked.read("usr/bin/qbittorrent-nox")
        // A client renamed inside an image with an ordinary name.
        try scratch.write(
            "home/alice/Applications/Notes-1.0-x86_64.AppImage",
            try appImage(
                compression, ["usr/bin/notes": (client, 0o755), "notes.desktop": (desktop("Notes", "notes"), 0o644)]),
            mode: 0o755)
        // Its desktop entry names a catalog application; the file has no AppImage suffix.
        try scratch.write(
            "opt/tools/viewer",
            try appImage(
                compression,
                [
                    "usr/bin/run": (Array("#!/bin/sh\n".utf8), 0o755),
                    "q.desktop": (desktop("qBittorrent", "qbittorrent %U"), 0o644),
                ]),
            mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.errors.isEmpty, "\(finding.errors)")
        let reasons = Dictionary(grouping: finding.evidence, by: \.item).mapValues { $0.compactMap(\.reason?.en) }
        let notes = reasons["/home/alice/Applications/Notes-1.0-x86_64.AppImage"] ?? []
        #expect(notes.contains("links libtorrent-rasterbar.so.2.0 (inside the AppImage: usr/bin/notes)"), "\(notes)")
        #expect(reasons["/opt/tools/viewer"] == ["its desktop entry is named qBittorrent"])
    }

    @Test(
        "an AppImage whose image cannot be read is an error, never a pass; a harmless one passes",
        .enabled(if: Needs.underCI || (Programs.clang != nil && mksquashfs), "needs clang and squashfs-tools"))
    func unreadableAppImage() throws {
        let scratch = try Fixture.copy("debian-clean")
        let harmless = try appImage(
            "xz",
            [
                "usr/bin/editor": (Array("#!/bin/sh\necho edit\n".utf8), 0o755),
                "e.desktop": (desktop("Editor", "editor"), 0o644),
            ])
        try scratch.write("home/alice/Applications/Editor.AppImage", harmless, mode: 0o755)
        #expect(try p2p(scratch.path).status == .pass)
        // Cut short after its superblock (mksquashfs pads images to 4 KB, so a cut must go deeper
        // than the padding): what it holds cannot be known.
        let runtime = try stubProgram()
        let cut = Array(harmless.prefix(runtime.count + 120))
        try scratch.write("home/alice/Applications/Editor.AppImage", cut, mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .error)
        #expect(
            finding.errors.contains { $0.en.contains("Editor.AppImage") && $0.en.contains("SquashFS") },
            "\(finding.errors)")
    }

    @Test(
        "a list claiming a file where Debian installs nothing owns nothing; a list edited after a copy is seen through")
    func listsThatLie() throws {
        let scratch = try Fixture.copy("debian-clean")
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("transmission-cli", into: unpacked.path)
        let client = try unpacked.read("usr/bin/transmission-cli")
        let original = Array("dircolors as installed\n".utf8)
        try scratch.write("usr/bin/dircolors", original, mode: 0o755)
        try scratch.write("var/lib/dpkg/info/coreutils.md5sums", "\(md5(original))  usr/bin/dircolors\n")
        try age(scratch.path + "/var/lib/dpkg/info/coreutils.md5sums")
        // A line for a client in a home, in the list of an installed package, written after the copy.
        try scratch.write("home/alice/bin/notes", client, mode: 0o755)
        try scratch.write("usr/bin/dircolors", client, mode: 0o755)
        try scratch.write(
            "var/lib/dpkg/info/coreutils.list", "/.\n/usr\n/usr/bin\n/usr/bin/dircolors\n/home/alice/bin/notes\n")
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        let items = Set(finding.evidence.map(\.item))
        #expect(items.isSuperset(of: ["/home/alice/bin/notes", "/usr/bin/dircolors"]), "\(items)")
    }

    @Test(
        "an AppImage holding another, or whose runtime says AppImage with no image after it, is an error",
        .enabled(if: Needs.underCI || (Programs.clang != nil && mksquashfs), "needs clang and squashfs-tools"))
    func appImagesThatHide() throws {
        let scratch = try Fixture.copy("debian-clean")
        let inner = try appImage("xz", ["usr/bin/run": (Array("#!/bin/sh\n".utf8), 0o755)])
        try scratch.write(
            "home/alice/Applications/Outer.AppImage", try appImage("xz", ["usr/bin/inner": (inner, 0o755)]), mode: 0o755
        )
        var finding = try p2p(scratch.path)
        #expect(finding.status == .error)
        #expect(
            finding.errors.contains { $0.en.contains("an AppImage inside an AppImage is not read") },
            "\(finding.errors)")
        try scratch.remove("home/alice/Applications/Outer.AppImage")
        var runtime = try stubProgram()
        runtime.replaceSubrange(8...10, with: [0x41, 0x49, 2])
        try scratch.write(
            "home/alice/Applications/Broken.AppImage", runtime + [UInt8](repeating: 7, count: 4096), mode: 0o755)
        finding = try p2p(scratch.path)
        #expect(finding.status == .error)
        #expect(finding.errors.contains { $0.en.contains("its SquashFS image is not where its runtime ends") })
    }

    @Test(
        "section headers do not hide strings: data marked as code outside any executable segment is searched",
        .enabled(if: Needs.underCI || Programs.clang != nil, "needs clang and binutils"))
    func lyingSectionHeaders() throws {
        let signatures = try #require(try catalogSignatures()["gnutella"])
        let source = try ScratchTree()
        let strings = signatures.prefix(2).map { "\"" + $0.map { String(format: "\\x%02x", $0) }.joined() + "\"" }
        // Arrays, not literals: they go to .rodata itself, not to a mergeable-strings section.
        try source.write(
            "g.c",
            "#include <stdio.h>\nconst char s0[] = \(strings[0]);\nconst char s1[] = \(strings[1]);\n"
                + "int main(int c, char **v) { puts(c % 2 ? s0 : s1); return 0; }\n")
        let compiler = try #require(Programs.clang)
        #expect(try run([compiler, "-O1", "-o", source.path + "/g", source.path + "/g.c"]).status == 0)
        let flagged = try run([
            "/usr/bin/objcopy", "--set-section-flags", ".rodata=alloc,code,readonly", source.path + "/g",
            source.path + "/lying",
        ])
        #expect(flagged.status == 0, "\(flagged.error)")
        let rules = try PolicyLoader.loadDefault().catalog.contentRules(for: ["p2p"])
        let bytes = try source.read("lying")
        let fd = open(source.path + "/lying", O_RDONLY)
        defer { close(fd) }
        let result = try ProgramInspector(rules: rules).inspect(FileWindow(fd: fd, size: bytes.count, path: "lying"))
        #expect(result.signatures.count == 2)
    }

    @Test("a program dated past 2262 is walked (no overflow); an owned file with no md5sum to check says so")
    func farDatesAndUnverifiable() throws {
        let scratch = try Fixture.copy("debian-clean")
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("transmission-cli", into: unpacked.path)
        let client = try unpacked.read("usr/bin/transmission-cli")
        try scratch.write("home/alice/bin/later", client, mode: 0o755)
        let later = Date(timeIntervalSince1970: 10_413_792_000)  // 2300-01-01
        try FileManager.default.setAttributes(
            [.modificationDate: later], ofItemAtPath: scratch.path + "/home/alice/bin/later")
        try scratch.write("usr/bin/dircolors", client, mode: 0o755)
        try scratch.write("var/lib/dpkg/info/coreutils.list", "/.\n/usr\n/usr/bin\n/usr/bin/dircolors\n")
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.evidence.contains { $0.item == "/home/alice/bin/later" })
        let owned = try #require(finding.evidence.first { $0.item == "/usr/bin/dircolors" })
        #expect(owned.reason?.en.contains("a file of the package coreutils with no md5sum to check it against") == true)
    }

    @Test(
        "a bare AppImage runtime, with nothing after it, is only a program",
        .enabled(if: Needs.underCI || Programs.clang != nil, "needs clang"))
    func bareRuntime() throws {
        let scratch = try Fixture.copy("debian-clean")
        var runtime = try stubProgram()
        runtime.replaceSubrange(8...10, with: [0x41, 0x49, 2])
        try scratch.write("home/alice/bin/runtime-x86_64", runtime, mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .pass, "\(finding.errors)")
    }

    @Test("a file shorter than when it was looked at is an error, not a clean read; a catalog without protocols reads")
    func shortReadsAndEmptyProtocols() throws {
        let scratch = try ScratchTree()
        try scratch.write("file", [UInt8](repeating: 0, count: 4096), mode: 0o755)
        let fd = open(scratch.path + "/file", O_RDONLY)
        defer { close(fd) }
        let rules = try PolicyLoader.loadDefault().catalog.contentRules(for: ["p2p"])
        #expect(throws: HostReadError.self) {
            try ProgramInspector(rules: rules).inspect(FileWindow(fd: fd, size: 4096 + 100, path: "file"))
        }
        let catalog = try CatalogFile(
            """
            category: engines-only
            title: {ja: エンジンのみ, en: engines only}
            software: []
            engines:
              - id: example
                name: Example engine
                libraries: [libexample.so]
            """, file: "engines-only.yaml")
        let onlyEngines = ContentRules(engines: catalog.engines, protocols: catalog.protocols)
        let result = try ProgramInspector(rules: onlyEngines).inspect(FileWindow(fd: fd, size: 4096, path: "file"))
        #expect(result.signatures.isEmpty)
        #expect(ElfImage.sum(Int.max - 1, 5) == Int.max)
    }

    @Test("with the cache, a second check reads no unchanged program; a rewritten one is read again")
    func cache() throws {
        let scratch = try Fixture.copy("debian-clean")
        let unpacked = try ScratchTree()
        try DebianArchive.unpack("ctorrent", into: unpacked.path)
        let client = try unpacked.read("usr/bin/ctorrent")
        try scratch.write("home/alice/bin/notes", client, mode: 0o755)
        try scratch.write("home/alice/bin/other", client.map { $0 == 0x61 ? 0x62 : $0 }, mode: 0o755)
        let stateTree = try ScratchTree()
        let state = try StateDirectory(stateTree.path + "/state")
        var request = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get().factRequest
        request.cacheDirectory = state
        let root = try HostRoot(scratch.path)
        let first = HostFacts.collect(from: root, request: request)
        #expect(first.contentCounts.fromCache == 0 && first.contentCounts.searchedBytes > 0)
        let second = HostFacts.collect(from: root, request: request)
        #expect(second.contentCounts.fromCache == first.contentCounts.inspected)
        #expect(second.contentCounts.searchedBytes == 0)
        #expect(second.inspectedPrograms.map(\.file.path) == first.inspectedPrograms.map(\.file.path))
        #expect(second.inspectedPrograms.map(\.file.path).contains("/home/alice/bin/notes"))

        // The same size and mtime, other content: ctime moved, so it is read again.
        let path = scratch.path + "/home/alice/bin/notes"
        let modified = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        try scratch.write("home/alice/bin/notes", [UInt8](repeating: 0, count: client.count), mode: 0o755)
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path)
        let third = HostFacts.collect(from: root, request: request)
        #expect(third.contentCounts.fromCache == first.contentCounts.inspected - 1)
        #expect(!third.inspectedPrograms.map(\.file.path).contains("/home/alice/bin/notes"))

        // A damaged cache is started over with a note; one readable by others is refused.
        try stateTree.write("state/content-cache", Array("tenken-content-cache 4\n".utf8) + [1, 2, 3], mode: 0o600)
        let fourth = HostFacts.collect(from: root, request: request)
        #expect(fourth.contentCounts.fromCache == 0)
        #expect(fourth.issues.contains { $0.source == .content && $0.level == .limited && $0.kind == .damaged })
        chmod(stateTree.path + "/state/content-cache", 0o644)
        let fifth = HostFacts.collect(from: root, request: request)
        #expect(fifth.contentCounts.fromCache == 0)
        #expect(fifth.inspectedPrograms.map(\.file.path) == third.inspectedPrograms.map(\.file.path))
    }

    // MARK: - Helpers

    static let mksquashfs = FileManager.default.isExecutableFile(atPath: "/usr/bin/mksquashfs")

    private func desktop(_ name: String, _ exec: String) -> [UInt8] {
        Array("[Desktop Entry]\nType=Application\nName=\(name)\nExec=\(exec)\nIcon=app\n".utf8)
    }

    /// A small ELF program that does nothing, as an AppImage's runtime.
    private func stubProgram() throws -> [UInt8] {
        let source = try ScratchTree()
        try source.write("stub.c", "int main(void) { return 0; }\n")
        let compiler = try #require(Programs.clang)
        let built = try run([compiler, "-O1", "-o", source.path + "/stub", source.path + "/stub.c"])
        #expect(built.status == 0, "\(built.error)")
        return try source.read("stub")
    }

    /// An AppImage (type 2): an ELF runtime with a SquashFS image of `files` made by mksquashfs after it.
    private func appImage(_ compression: String, _ files: [String: ([UInt8], mode_t)]) throws -> [UInt8] {
        let tree = try ScratchTree()
        for (path, (bytes, mode)) in files { try tree.write("root/" + path, bytes, mode: mode) }
        let made = try run([
            "/usr/bin/mksquashfs", tree.path + "/root", tree.path + "/image", "-comp", compression, "-noappend",
            "-no-progress", "-all-root",
        ])
        #expect(made.status == 0, "\(made.error)")
        return try stubProgram() + (try tree.read("image"))
    }

    /// The default catalog's signatures by protocol id: tests build their inputs from the catalog
    /// so no signature is spelled out in tenken's sources (or its test program).
    private func catalogSignatures() throws -> [String: [[UInt8]]] {
        let catalog = try PolicyLoader.loadDefault().catalog
        return Dictionary(
            uniqueKeysWithValues: catalog.protocols(in: ["p2p"]).map { ($0.id, $0.signatures.map(\.bytes)) })
    }

    private func collect(_ root: String) -> HostFacts {
        let policy = try! PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        return HostFacts.collect(from: try! HostRoot(root), request: policy.factRequest)
    }

    private func md5(_ bytes: [UInt8]) -> String {
        Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Sets a file's times an hour back.
    private func age(_ path: String) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
    }

    /// Adds installed packages to the root's dpkg status, and their stanzas (with Debian tags)
    /// to its bookworm list, shaped as Debian writes them.
    private func installPackages(_ scratch: ScratchTree, _ packages: [(String, String, String, String?)]) throws {
        var status = String(decoding: try scratch.read("var/lib/dpkg/status"), as: UTF8.self)
        let listPath = "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"
        var list = String(decoding: try scratch.read(listPath), as: UTF8.self)
        for (name, version, depends, tags) in packages {
            status += """

                Package: \(name)
                Status: install ok installed
                Priority: optional
                Section: net
                Installed-Size: 1024
                Maintainer: Debian Developers <debian-devel@lists.debian.org>
                Architecture: amd64
                Version: \(version)
                Depends: \(depends)
                Description: \(name)

                """
            list += """

                Package: \(name)
                Version: \(version)
                Installed-Size: 1024
                Maintainer: Debian Developers <debian-devel@lists.debian.org>
                Architecture: amd64
                Depends: \(depends)
                Description: \(name)
                \(tags.map { "Tag: " + $0 + "\n" } ?? "")Section: net
                Priority: optional
                Filename: pool/main/\(name.prefix(1))/\(name)/\(name)_\(version)_amd64.deb
                Size: 100000

                """
        }
        try scratch.write("var/lib/dpkg/status", status)
        try scratch.write(listPath, list)
    }
}
