import Foundation
import GRDB
import Testing

@testable import TenkenBase
@testable import TenkenCollector
@testable import TenkenScan

/// The real collector on loopback with real TLS: `tenken-collector serve` as a process of its
/// own. In this process its handlers would share the few threads of Swift's concurrency pool
/// with every other test running meanwhile, and a program waiting for it could time out.
/// `store` is this process's own connection to the same SQLite file (WAL).
public final class LoopbackCollector: @unchecked Sendable {
    public static let binary = Programs.collector
    public let directory: String
    public let files: CertificateAuthority.Files
    public let database: String
    public let port: Int
    public var base: String { "https://127.0.0.1:\(port)" }
    public let store: SQLiteReportStore
    private var process: Process?

    /// Creates the CA (once per directory) and serves on a free port, the same one on every `start`.
    /// What the server is started through (`prlimit`, say); empty: started directly.
    let launcher: [String]
    /// More options for `serve` (`--journal-socket`, say).
    let options: [String]

    /// `database`: where the SQLite file is, when not in `directory` (a small file system, say).
    public init(directory: String, launcher: [String] = [], options: [String] = [], database: String? = nil)
        async throws
    {
        self.directory = directory
        self.launcher = launcher
        self.options = options
        files = CertificateAuthority.Files(directory: directory + "/tls")
        if !FileManager.default.fileExists(atPath: files.caCertificate) {
            try CertificateAuthority.create(in: files, hosts: ["localhost", "127.0.0.1"])
        }
        self.database = database ?? directory + "/collector.sqlite"
        store = try SQLiteReportStore(path: self.database)  // migrates before the server opens it
        port = freePort()
        try await start()
    }

    /// Starts the server (again, after `stop` or `kill9`) and waits until it answers.
    public func start() async throws {
        let process = Process()
        let command =
            launcher + [
                Self.binary, "serve", "--dir", files.directory, "--database", database, "--listen", "127.0.0.1",
                "--port", String(port),
            ] + options
        process.executableURL = URL(filePath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        // Its log, to say why when it does not start.
        let log = directory + "/collector.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(filePath: log))
        try process.run()
        self.process = process
        for _ in 0..<400 where process.isRunning {
            if try await runDetached(["/usr/bin/curl", "-sf", "--cacert", files.caCertificate, base + "/healthz"])
                .status == 0
            {
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        let exit = process.isRunning ? "still running" : "exited with \(process.terminationStatus)"
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw CocoaError(
            .fileNoSuchFile,
            userInfo: [
                NSLocalizedDescriptionKey:
                    "tenken-collector did not start on port \(port) (\(exit)): \(said.suffix(2000))"
            ])
    }

    /// SIGTERM, as systemd stops it.
    public func stop() async {
        process?.terminate()
        process?.waitUntilExit()
        process = nil
    }

    /// The server's process id while it runs.
    public var pid: Int32? { process.map(\.processIdentifier) }

    /// The server's resident memory (VmRSS), in bytes.
    public func residentBytes() -> Int? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
    }

    public func kill9() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    deinit { kill9() }

    public func enrollmentToken() async throws -> String {
        let token = CollectorApplication.newToken()
        try await store.addEnrollmentToken(hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds())
        return token
    }

    public func adminToken() async throws -> String {
        let token = CollectorApplication.newToken()
        try await store.addAdminToken(hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds())
        return token
    }
}

/// Reads a collector's database from outside it, as another SQLite connection would.
public func storedSequences(database: String) throws -> [Int] {
    let queue = try DatabaseQueue(path: database)
    return try queue.read { db in try Int.fetchAll(db, sql: "SELECT sequence FROM reports ORDER BY sequence") }
}

/// A TCP port nobody uses right now, for a server that must come back on the same address.
/// Below the kernel's range for outgoing connections: a port from that range, released, may
/// be the local port of any client connection a moment later (one test holds 2,000), and the
/// server could then not bind it.
public func freePort() -> Int {
    let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
    let lowest = range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    while true {
        let port = Int.random(in: 10_000..<max(10_001, lowest))
        if bindable(port) { return port }
    }
}

private func bindable(_ port: Int) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// curl pinned to the collector's CA: an independent HTTPS client.
public struct Curl {
    public struct Reply {
        public let status: Int
        public let body: String
    }

    public let ca: String
    public let base: String

    public init(ca: String, base: String) {
        self.ca = ca
        self.base = base
    }

    public func callAsFunction(_ arguments: [String]) async throws -> Reply {
        let result = try await runDetached(
            ["/usr/bin/curl", "-sS", "--cacert", ca, "-w", "\n%{http_code}"] + arguments)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return Reply(
            status: Int(lines.last ?? "") ?? -1,
            body: String(lines.dropLast().joined(separator: "\n").reversed().drop { $0 == "\n" }.reversed()))
    }

    public func get(_ path: String, token: String? = nil) async throws -> Reply {
        try await self((token.map { ["-H", "Authorization: Bearer " + $0] } ?? []) + [base + path])
    }

    public func post(_ path: String, file: String, type: String = "application/jose") async throws -> Reply {
        try await self(["-H", "Content-Type: " + type, "--data-binary", "@" + file, base + path])
    }
}
