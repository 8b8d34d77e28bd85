import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// Content detection on a real Debian desktop (browsers, office, mail, media, development tools,
/// a download manager, a podcast client) fails nothing: what can exchange files but is not made
/// for it only warns, named as dual-use. The root is built by scripts/desktop-root.sh (debootstrap,
/// about 4 GB, cached), so this runs only when TENKEN_DESKTOP_ROOT names it.
@Suite("no false positives on a desktop")
struct ContentFalsePositiveTests {
    static let root = ProcessInfo.processInfo.environment["TENKEN_DESKTOP_ROOT"].flatMap {
        FileManager.default.fileExists(atPath: $0 + "/.complete") ? $0 : nil
    }

    @Test(
        "a desktop-like Debian root fails no software rule; the dual-use packages it has only warn",
        .enabled(if: root != nil, "set TENKEN_DESKTOP_ROOT to a root built by scripts/desktop-root.sh"))
    func desktop() throws {
        let path = try #require(Self.root)
        let policy = try PolicyLoader.loadDefault()
            .selecting(["no-p2p-software", "no-personal-cloud-sync", "no-remote-access-software"]).get()
        let report = Check.run(root: try HostRoot(path), policy: policy, now: Timestamp.seconds())
        for finding in report.findings {
            #expect(
                finding.status != .fail, "\(finding.ruleID): \(finding.evidence.map { Messages(.en).describe($0) })")
            #expect(finding.errors.isEmpty, "\(finding.ruleID): \(finding.errors.map(\.en))")
        }
        let p2p = try #require(report.finding("no-p2p-software"))
        let dualUse = Set(p2p.evidence.filter { $0.dualUse == true }.map(\.item))
        #expect(dualUse.isSuperset(of: ["aria2", "gpodder", "vlc-plugin-bittorrent", "nbdkit"]), "\(dualUse)")
        #expect(p2p.evidence.allSatisfy { $0.dualUse == true }, "\(p2p.evidence.map { Messages(.en).describe($0) })")
        let content = try #require(report.coverage.first { $0.source == "content" })
        #expect(content.state == .complete, "\(content.gaps.map(\.message.en))")
        print("dual-use on the desktop root: \(dualUse.sorted().joined(separator: ", "))")
    }

    /// What the desktop's own programs would look like if no package owned them (copied to /opt,
    /// say): every executable and library of the root inspected by content.
    @Test(
        "no browser, office, mail, media or development program on the desktop looks like a P2P client by its content",
        .enabled(if: root != nil, "set TENKEN_DESKTOP_ROOT to a root built by scripts/desktop-root.sh"))
    func desktopProgramsByContent() throws {
        let path = try #require(Self.root)
        let rules = try PolicyLoader.loadDefault().catalog.contentRules(for: ["p2p", "cloud-sync", "remote-access"])
        let inspector = ProgramInspector(rules: rules)
        var inspected = 0
        var strong: [String] = []
        var weak: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: path + "/usr")
        while let relative = enumerator?.nextObject() as? String {
            let full = path + "/usr/" + relative
            var info = stat()
            guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                info.st_mode & 0o111 != 0 || relative.contains(".so")
            else { continue }
            let fd = open(full, O_RDONLY)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            let result = try inspector.inspect(FileWindow(fd: fd, size: Int(info.st_size), path: "/usr/" + relative))
            inspected += 1
            let protocols = Dictionary(grouping: result.signatures, by: \.protocolIndex)
            if !result.linked.isEmpty || protocols.values.contains(where: { $0.count >= 2 }) {
                strong.append("/usr/" + relative)
            } else if !result.signatures.isEmpty || !result.searchPaths.isEmpty {
                weak.append("/usr/" + relative)
            }
        }
        // The engines themselves and the dual-use packages' files are what they are.
        let dualUse = ["libtorrent-rasterbar", "libaria2", "aria2c", "nbdkit", "bittorrent"]
        let unexpected = strong.filter { file in !dualUse.contains { file.contains($0) } }
        #expect(unexpected.isEmpty, "\(unexpected)")
        print("desktop programs by content: \(inspected) inspected; strong: \(strong); weak: \(weak)")
    }
}
