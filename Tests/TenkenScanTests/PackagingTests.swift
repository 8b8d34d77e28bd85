import Foundation
import TenkenTestSupport
import Testing

/// The systemd units as shipped, checked by systemd's own parser against the built programs.
@Suite("packaging")
struct PackagingTests {
    static let analyze = "/usr/bin/systemd-analyze"

    @Test("systemd-analyze verify accepts the agent and collector units", Needs.programs(analyze))
    func units() throws {
        let scratch = try ScratchTree()
        let packaging = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appending(path: "packaging").path
        let built = URL(filePath: Programs.tenken).deletingLastPathComponent().path
        for unit in ["tenken-agent.service", "tenken-collector.service"] {
            let text = try String(contentsOfFile: packaging + "/" + unit, encoding: .utf8)
            #expect(text.contains("ExecStart=/usr/bin/"))
            try scratch.write(
                unit, text.replacingOccurrences(of: "ExecStart=/usr/bin/", with: "ExecStart=" + built + "/"))
        }
        let result = try run([
            Self.analyze, "verify", scratch.path + "/tenken-agent.service", scratch.path + "/tenken-collector.service",
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.isEmpty, "\(result.error)")
    }
}
