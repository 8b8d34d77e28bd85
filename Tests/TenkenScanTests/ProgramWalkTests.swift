import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// The program-file walk reaches wherever a user can put a program, as deep as real installs go,
/// and a tree it cannot finish is a gap with its path, never a pass.
@Suite("program-file walk")
struct ProgramWalkTests {
    private func p2p(_ root: String) throws -> Finding { try Fixture.finding("no-p2p-software", at: root) }

    @Test(
        "a client anywhere a user can write is found, at any real depth",
        arguments: [
            "home/alice/Documents/work/2026/tools/p2p/linux/x64/release/bin/qbittorrent",
            "home/alice/.var/app/org.example.Tools/data/tools/bin/qbittorrent",
            "home/alice/snap/example-tool/42/.local/bin/qbittorrent",
            "home/alice/snap/wine-platform/common/.wine/drive_c/Program Files/Winny/Winny.exe",
            "home/alice/.var/app/org.winehq.Wine/data/wine/drive_c/users/alice/Desktop/Share.exe",
            "home/alice/Downloads/archive/extracted/tixati-3.19/tixati",
            "opt/vendor/suite/2026/components/net/p2p/bin/qbittorrent",
            "usr/local/share/tools/bin/qbittorrent",
            "srv/shared/qbittorrent",
            "tmp/.hidden/qbittorrent",
            "var/tmp/cache/qbittorrent",
            "root/.local/share/applications/bin/qbittorrent",
        ])
    func foundAnywhere(_ program: String) throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write(program, "", mode: 0o755)
        let finding = try p2p(scratch.path)
        #expect(finding.status == .fail)
        #expect(finding.evidence.map(\.item) == ["/" + program])
    }

    @Test("a client 60 levels down is found; a tree deeper than the bound is a gap naming where it stopped")
    func depthBound() throws {
        let scratch = try Fixture.copy("debian-clean")
        let deep = (1...60).map { "d\($0)" }.joined(separator: "/")
        try scratch.write("home/alice/" + deep + "/qbittorrent", "", mode: 0o755)
        #expect(try p2p(scratch.path).status == .fail)
        try scratch.remove("home/alice/" + deep + "/qbittorrent")
        let bound = ExecutableSource.maximumDepth
        let deeper = (1...(bound + 5)).map { "d\($0)" }.joined(separator: "/")
        try scratch.write("home/alice/" + deeper + "/notes.txt", "")
        let finding = try p2p(scratch.path)
        #expect(finding.status == .error)
        // Levels count from the root, where /home/alice is the third.
        let stopped = "/home/alice/" + (1...(bound - 2)).map { "d\($0)" }.joined(separator: "/")
        #expect(finding.errors.map(\.en) == ["\(stopped): not read, deeper than \(bound) levels"], "\(finding.errors)")
    }

    @Test("a home inside another walked tree, or a symlink to one, is walked once")
    func enteredOnce() throws {
        let scratch = try Fixture.copy("debian-clean")
        var passwd = String(decoding: try scratch.read("etc/passwd"), as: UTF8.self)
        passwd += "bob:x:1001:1001:Bob:/opt/bob:/bin/bash\n"
        try scratch.write("etc/passwd", passwd)
        try scratch.write("opt/bob/bin/qbittorrent", "", mode: 0o755)
        try FileManager.default.createDirectory(atPath: scratch.path + "/srv", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/srv/bob", withDestinationPath: "/opt/bob")
        let finding = try p2p(scratch.path)
        #expect(finding.evidence.map(\.item) == ["/opt/bob/bin/qbittorrent"])
    }

    @Test("a symlink inside a tree is a file of that name, never followed")
    func symlinksNotFollowed() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("var/cache/elsewhere/qbittorrent", "", mode: 0o755)
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/home/alice/linked", withDestinationPath: "/var/cache/elsewhere")
        #expect(try p2p(scratch.path).status == .pass, "the directory behind the link is not a user tree")
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/home/alice/qbittorrent", withDestinationPath: "/var/cache/elsewhere/qbittorrent")
        #expect(try p2p(scratch.path).evidence.map(\.item) == ["/home/alice/qbittorrent"])
    }

    @Test("a Windows client outside any Wine prefix is found as a file, inside one as a Wine program")
    func windowsProgramOutsideWine() throws {
        let scratch = try Fixture.copy("debian-clean")
        try scratch.write("home/alice/Downloads/Winny.exe", "")
        try scratch.write("home/alice/.wine/drive_c/Winny/Winny.exe", "")
        let evidence = try p2p(scratch.path).evidence.map { "\($0.source) \($0.item)" }.sorted()
        #expect(evidence == ["file /home/alice/Downloads/Winny.exe", "wine /home/alice/.wine/drive_c/Winny/Winny.exe"])
    }

    @Test("a home of many entries keeps only the names a catalog asks about")
    func keepsOnlyCatalogNames() throws {
        let scratch = try Fixture.copy("debian-clean")
        for number in 0..<2_000 { try scratch.write("home/alice/project/src/file-\(number).c", "") }
        try scratch.write("home/alice/project/build/Transmission-4.0.5-x86_64.AppImage", "", mode: 0o755)
        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        let facts = HostFacts.collect(from: try HostRoot(scratch.path), request: policy.factRequest)
        #expect(facts.executables.map(\.path) == ["/home/alice/project/build/Transmission-4.0.5-x86_64.AppImage"])
        #expect(facts.coverage.first { $0.source == "files" }?.state == .complete)
    }
}
