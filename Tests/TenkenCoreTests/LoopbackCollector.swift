import Foundation
import GRDB
import Testing
@testable import TenkenCollector
@testable import TenkenCore

/// The real collector on loopback with real TLS: in this process (`start`), or as the
/// `tenken-collector` program (`CollectorProcess`) when a test kills it.
final class LoopbackCollector: @unchecked Sendable {
    let directory: String
    let files: CertificateAuthority.Files
    let database: String
    let port: Int
    var base: String { "https://127.0.0.1:\(port)" }
    private var server: Task<Void, any Error>?
    private(set) var store: SQLiteReportStore

    /// Creates the CA (once per directory) and serves on `port` (0: any free port).
    init(directory: String, port: Int = 0, configure: (inout CollectorApplication.Configuration) -> Void = { _ in }) async throws {
        self.directory = directory
        files = CertificateAuthority.Files(directory: directory + "/tls")
        if !FileManager.default.fileExists(atPath: files.caCertificate) {
            try CertificateAuthority.create(in: files, hosts: ["localhost", "127.0.0.1"])
        }
        database = directory + "/collector.sqlite"
        store = try SQLiteReportStore(path: database)
        var configuration = CollectorApplication.Configuration(host: "127.0.0.1", port: port, certificate: files.serverCertificate,
                                                               privateKey: files.serverKey)
        configure(&configuration)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try CollectorApplication.make(store: store, configuration: configuration) { port in continuation.yield(port) }
        server = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        self.port = try #require(await iterator.next())
    }

    func stop() async {
        server?.cancel()
        _ = try? await server?.value
        server = nil
    }

    func enrollmentToken() async throws -> String {
        let token = CollectorApplication.newToken()
        try await store.addEnrollmentToken(hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds())
        return token
    }

    func adminToken() async throws -> String {
        let token = CollectorApplication.newToken()
        try await store.addAdminToken(hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds())
        return token
    }
}

/// Reads a collector's database from outside it, as another SQLite connection would.
func storedSequences(database: String) throws -> [Int] {
    let queue = try DatabaseQueue(path: database)
    return try queue.read { db in try Int.fetchAll(db, sql: "SELECT sequence FROM reports ORDER BY sequence") }
}

/// `tenken-collector serve` as a separate process, so a test can kill -9 it.
final class CollectorProcess {
    static let binary = URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "tenken-collector").path
    let process = Process()

    init(directory: String, port: Int) throws {
        process.executableURL = URL(filePath: Self.binary)
        process.arguments = ["serve", "--dir", directory + "/tls", "--database", directory + "/collector.sqlite",
                             "--listen", "127.0.0.1", "--port", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ca = directory + "/tls/ca.pem"
        for _ in 0..<200 {
            if (try? run(["/usr/bin/curl", "-sf", "--cacert", ca, "https://127.0.0.1:\(port)/healthz"]))?.status == 0 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "tenken-collector did not start"])
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A TCP port nobody listens on right now (bound and released), for a server that must come
/// back on the same address.
func freePort() -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, length) == 0 ? getsockname(socket, $0, &length) : -1 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// curl pinned to the collector's CA: an independent HTTPS client.
struct Curl {
    struct Reply {
        let status: Int
        let body: String
    }

    let ca: String
    let base: String

    func callAsFunction(_ arguments: [String]) async throws -> Reply {
        let result = try await runDetached(["/usr/bin/curl", "-sS", "--cacert", ca, "-w", "\n%{http_code}"] + arguments)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return Reply(status: Int(lines.last ?? "") ?? -1,
                     body: String(lines.dropLast().joined(separator: "\n").reversed().drop { $0 == "\n" }.reversed()))
    }

    func get(_ path: String, token: String? = nil) async throws -> Reply {
        try await self((token.map { ["-H", "Authorization: Bearer " + $0] } ?? []) + [base + path])
    }

    func post(_ path: String, file: String, type: String = "application/jose") async throws -> Reply {
        try await self(["-H", "Content-Type: " + type, "--data-binary", "@" + file, base + path])
    }
}
