import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector

/// The collector's database on a small file system of the test's own (tmpfs), filled up.
@Suite("collector storage full", Needs.curl, Needs.programs("/usr/bin/mount", "/usr/bin/umount"))
struct StorageFullTests {
    @Test(
        """
        a full disk: reports answered 503 with Retry-After, audited and logged, nothing acknowledged; stored once \
        space returns
        """)
    func diskFull() async throws {
        let scratch = try ScratchTree()
        let disk = scratch.path + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mounted = try run(["/usr/bin/mount", "-t", "tmpfs", "-o", "size=4m", "tenken-full", disk])
        try #require(mounted.status == 0, "\(mounted.error)")
        defer { _ = try? run(["/usr/bin/umount", "--lazy", disk]) }
        let collector = try await LoopbackCollector(
            directory: scratch.path + "/collector", database: disk + "/collector.sqlite")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let (key, keyID) = try await CollectorTests.enrollDirectly(in: collector.store, scratch: scratch, name: "m1")
        let signer = CollectorTests.Signer(scratch: scratch, key: key, machineID: "m1")
        #expect(try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 1).0).status == 201)

        // Fill what is left, a page at a time.
        let filler = disk + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(filePath: filler))
        let page = Data(repeating: 0x55, count: 4096)
        while (try? handle.write(contentsOf: page)) != nil {}
        try? handle.close()

        let (second, report) = try signer.signed(sequence: 2)
        for _ in 0..<2 {
            let refused = try await curl(
                [
                    "-D", "-", "-H", "Content-Type: application/jose", "--data-binary", "@" + second,
                    collector.base + "/api/v1/reports",
                ])
            #expect(refused.status == 503, "\(refused.body)")
            #expect(refused.body.lowercased().contains("retry-after: 60"), "\(refused.body)")
            #expect(refused.body.contains("disk is full") && !refused.body.contains(report.reportID))
        }
        #expect(try await collector.store.reports(keyID: keyID).map(\.sequence) == [1])
        let log = try String(contentsOfFile: collector.directory + "/collector.log", encoding: .utf8)
        #expect(log.contains("tenken-collector: the database's disk is full"), "\(log.suffix(2000))")
        #expect(log.contains(#""event":"storage_full""#), "\(log.suffix(2000))")

        // Space again: the same report is stored, once.
        try FileManager.default.removeItem(atPath: filler)
        #expect(try await curl.post("/api/v1/reports", file: second).status == 201)
        #expect(try await curl.post("/api/v1/reports", file: second).status == 200)
        #expect(try await collector.store.reports(keyID: keyID).map(\.sequence) == [1, 2])
    }
}
