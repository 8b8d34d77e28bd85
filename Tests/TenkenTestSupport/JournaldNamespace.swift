import Foundation

@testable import TenkenCollector

/// A journald of the tests' own: `systemd-journald NAMESPACE` listens on
/// /run/systemd/journal.NAMESPACE/socket and writes its own files, which `journalctl
/// --namespace` reads. The machine's journal (if any) is left alone. Needs root.
public final class JournaldNamespace: @unchecked Sendable {
    public static let daemon = "/lib/systemd/systemd-journald"
    public let name: String
    public var socket: String { "/run/systemd/journal.\(name)/socket" }
    private let process = Process()
    /// A namespace's journald exits after 30 s without a stream client (systemd starts it again
    /// on demand; nobody does here): one stays connected while the test runs.
    private var stream: Int32 = -1

    /// Waits on this thread, not by suspending: a namespace's journald exits after 30 s without a
    /// stream client, and a task suspended in a busy test run may not resume that soon.
    public init() throws {
        name = "tenken-test-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        process.executableURL = URL(filePath: Self.daemon)
        process.arguments = [name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let stdout = "/run/systemd/journal.\(name)/stdout"
        for _ in 0..<500
        where !FileManager.default.fileExists(atPath: socket) || !FileManager.default.fileExists(atPath: stdout) {
            usleep(10_000)
        }
        stream = Self.connect(stdout)
        guard FileManager.default.fileExists(atPath: socket), stream >= 0 else {
            let state = process.isRunning ? "running" : "exited with \(process.terminationStatus)"
            stop()
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [NSLocalizedDescriptionKey: "journald \(name) did not start (\(state), stream \(stream))"])
        }
        // The stream protocol's header: identifier, unit, priority, level prefix, and no forwarding.
        let header = Array("tenken-test\n\n6\n0\n0\n0\n0\n".utf8)
        _ = header.withUnsafeBytes { Glibc.write(stream, $0.baseAddress, $0.count) }
    }

    private static func connect(_ path: String) -> Int32 {
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard let address = UnixSocketAddress(path), address.withSocketAddress({ Glibc.connect(socket, $0, $1) }) == 0
        else {
            close(socket)
            return -1
        }
        return socket
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
        if stream >= 0 {
            close(stream)
            stream = -1
        }
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
