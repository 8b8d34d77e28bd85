import Foundation

/// A journald of the tests' own: `systemd-journald NAMESPACE` listens on
/// /run/systemd/journal.NAMESPACE/socket and writes its own files, which `journalctl
/// --namespace` reads. The machine's journal (if any) is left alone. Needs root.
public final class JournaldNamespace: @unchecked Sendable {
    public static let daemon = "/lib/systemd/systemd-journald"
    public let name: String
    public var socket: String { "/run/systemd/journal.\(name)/socket" }
    private let process = Process()

    public init() async throws {
        name = "tenken-test-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        process.executableURL = URL(filePath: Self.daemon)
        process.arguments = [name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) {
            try await Task.sleep(for: .milliseconds(25))
        }
        guard FileManager.default.fileExists(atPath: socket) else {
            stop()
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "journald did not start"])
        }
    }

    /// Every entry with this SYSLOG_IDENTIFIER, oldest first, as journalctl's JSON gives them
    /// (string fields only), and the whole journal in journalctl's export format, to search.
    public func entries(identifier: String) async throws -> (entries: [[String: String]], export: String) {
        let json = try await runDetached([
            "/usr/bin/journalctl", "--namespace", name, "--no-pager", "-o", "json", "SYSLOG_IDENTIFIER=" + identifier,
        ])
        let export = try await runDetached(["/usr/bin/journalctl", "--namespace", name, "--no-pager", "-o", "export"])
        let entries = json.output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.map { $0.compactMapValues { $0 as? String } }
        return (entries, export.output)
    }

    /// Stops it and removes its socket directory and journal files.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: "/run/systemd/journal.\(name)")
        let logs = "/var/log/journal"
        for directory in (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []
        where directory.hasSuffix("." + name) {
            try? FileManager.default.removeItem(atPath: logs + "/" + directory)
        }
    }

    deinit { stop() }
}
