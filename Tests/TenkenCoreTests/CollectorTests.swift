import Foundation
import Testing
@testable import TenkenCollector
@testable import TenkenCore

/// The real collector on loopback with real TLS, and curl (pinned to the collector's own CA)
/// as the client.
@Suite("collector")
struct CollectorTests {
    struct Reply {
        let status: Int
        let body: String
    }

    @Test("enrollment, verified ingest, acknowledgement by id, replay and forgery refused, TLS 1.2+ only")
    func enrollAndIngest() async throws {
        let scratch = try ScratchTree()
        let files = CertificateAuthority.Files(directory: scratch.path + "/tls")
        try CertificateAuthority.create(in: files, hosts: ["localhost", "127.0.0.1"])
        var info = stat()
        #expect(stat(files.caKey, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let store = try SQLiteReportStore(path: scratch.path + "/collector.sqlite")
        let enrollmentToken = CollectorApplication.newToken()
        try await store.addEnrollmentToken(hash: CollectorApplication.tokenHash(enrollmentToken), now: Timestamp.seconds())

        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try CollectorApplication.make(
            store: store,
            configuration: .init(host: "127.0.0.1", port: 0, certificate: files.serverCertificate, privateKey: files.serverKey)
        ) { port in continuation.yield(port) }
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let base = "https://127.0.0.1:\(port)"

        func curl(_ arguments: [String]) throws -> Reply {
            let result = try run(["/usr/bin/curl", "-sS", "--cacert", files.caCertificate, "-w", "\n%{http_code}"] + arguments)
            let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
            return Reply(status: Int(lines.last ?? "") ?? -1,
                         body: String(lines.dropLast().joined(separator: "\n").reversed().drop { $0 == "\n" }.reversed()))
        }
        func post(_ path: String, file: String, type: String = "application/jose") throws -> Reply {
            try curl(["-H", "Content-Type: " + type, "--data-binary", "@" + file, base + path])
        }

        #expect(try curl([base + "/healthz"]).body == "ok")
        #expect(try run(["/usr/bin/curl", "-sS", "--cacert", files.caCertificate, "--tls-max", "1.1", base + "/healthz"]).status != 0)
        #expect(try run(["/usr/bin/curl", "-sS", "http://127.0.0.1:\(port)/healthz"]).status != 0)  // plain HTTP is not served

        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        try scratch.write("enroll.json", #"{"token":"\#(enrollmentToken)","publicKey":"\#(Base64URL.encode(key.publicKey.rawRepresentation))","machineId":"5f3c8e1a","hostname":"kensa-pc01"}"#)
        #expect(try post("/api/v1/enroll", file: scratch.path + "/enroll.json", type: "application/json").status == 201)
        #expect(try post("/api/v1/enroll", file: scratch.path + "/enroll.json", type: "application/json").status == 403)

        let policy = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        func signed(sequence: Int, with signer: MachineKey = key) throws -> (String, CheckReport) {
            var report = Check.run(root: try Fixture.root("workstation"), policy: policy)
            report.sequence = sequence
            let name = "report-\(sequence)-\(report.reportID).jws"
            try scratch.write(name, try JWS.sign(Array(try report.json()), with: signer))
            return (scratch.path + "/" + name, report)
        }
        let (first, firstReport) = try signed(sequence: 1)
        let stored = try post("/api/v1/reports", file: first)
        #expect(stored.status == 201)
        #expect(stored.body.contains(firstReport.reportID))
        let again = try post("/api/v1/reports", file: first)
        #expect(again.status == 200 && again.body.contains("\"duplicate\":true"))
        #expect(try post("/api/v1/reports", file: try signed(sequence: 1).0).status == 409)
        #expect(try post("/api/v1/reports", file: try signed(sequence: 2).0).status == 201)

        var forged = String(decoding: try scratch.read(first.split(separator: "/").last.map(String.init)!), as: UTF8.self)
        forged = forged.replacingOccurrences(of: ".", with: ".e", options: [], range: forged.range(of: "."))
        try scratch.write("forged.jws", forged)
        #expect(try post("/api/v1/reports", file: scratch.path + "/forged.jws").status == 400)
        let stranger = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/stranger")
        #expect(try post("/api/v1/reports", file: try signed(sequence: 3, with: stranger).0).status == 403)
        try scratch.write("huge.jws", String(repeating: "a", count: 2 << 20))
        #expect(try post("/api/v1/reports", file: scratch.path + "/huge.jws").status == 413)

        let kept = try await store.reports(keyID: MachineKey.thumbprint(key.publicKey))
        #expect(kept.map(\.sequence) == [1, 2])
        #expect(kept.first?.verdict == "non-compliant")
    }
}
