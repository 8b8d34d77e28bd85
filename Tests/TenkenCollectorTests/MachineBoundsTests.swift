import Crypto
import Foundation
import GRDB
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector
@testable import TenkenScan

/// What one enrolled PC, whose owner is root on it, can make the collector do: the real
/// collector on loopback, each limit set low by its `serve` option.
@Suite("collector per-machine bounds", Needs.curl)
struct MachineBoundsTests {
    let scratch: ScratchTree

    init() throws {
        scratch = try ScratchTree()
    }

    /// POST with the answer's head kept in the body (Retry-After).
    func post(_ curl: Curl, _ path: String, _ file: String) async throws -> Curl.Reply {
        try await curl([
            "-D", "-", "-H", "Content-Type: application/jose", "--data-binary", "@" + file, curl.base + path,
        ])
    }

    /// The Retry-After of an answer kept by `post`, in seconds.
    func retryAfter(_ reply: Curl.Reply) -> Int? {
        reply.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("retry-after: ") }
            .flatMap { Int($0.dropFirst(13)) }
    }

    @Test(
        """
        reports a minute per machine: past the limit 429 with Retry-After, audited; another machine is not \
        held back
        """)
    func reportsPerMinute() async throws {
        let collector = try await LoopbackCollector(
            directory: scratch.path + "/collector", options: ["--reports-per-minute", "3"])
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let (key, _) = try await CollectorTests.enrollDirectly(in: collector.store, scratch: scratch, name: "m1")
        let (other, _) = try await CollectorTests.enrollDirectly(in: collector.store, scratch: scratch, name: "m2")
        let signer = CollectorTests.Signer(scratch: scratch, key: key, machineID: "m1")
        var answers: [Curl.Reply] = []
        for sequence in 1...4 {
            answers.append(try await post(curl, "/api/v1/reports", try signer.signed(sequence: sequence).0))
        }
        // Three in the minute (four should the minute turn between them).
        let limited = try #require(answers.first { $0.status == 429 }, "\(answers.map(\.status))")
        #expect(answers.filter { $0.status == 201 }.count >= 3)
        let wait = try #require(retryAfter(limited), "\(limited.body)")
        #expect((1...60).contains(wait) && limited.body.contains("reports a minute"), "\(limited.body)")
        let otherSigner = CollectorTests.Signer(scratch: scratch, key: other, machineID: "m2")
        #expect(try await post(curl, "/api/v1/reports", try otherSigner.signed(sequence: 1).0).status == 201)
        let log = try String(contentsOfFile: collector.directory + "/collector.log", encoding: .utf8)
        #expect(log.contains(#""tenken_reason":"rate_limited""#), "\(log.suffix(2000))")
    }

    @Test("bytes a day per machine: past the limit 429 until the next UTC day, audited")
    func bytesPerDay() async throws {
        let collector = try await LoopbackCollector(
            directory: scratch.path + "/collector", options: ["--megabytes-per-day", "1"])
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let (key, _) = try await CollectorTests.enrollDirectly(in: collector.store, scratch: scratch, name: "m1")
        let signer = CollectorTests.Signer(scratch: scratch, key: key, machineID: "m1")
        // Noise beside the findings, which the collector skips: a signed report of about 310 kB,
        // so the fourth is over 1 MiB.
        let noise = Base64URL.encode((0..<170_000).map { _ in UInt8.random(in: 0...255) })
        var statuses: [Int] = []
        var refused: Curl.Reply?
        for sequence in 1...5 {
            let reply = try await post(
                curl, "/api/v1/reports", try signer.signed(sequence: sequence) { $0["padding"] = noise }.0)
            statuses.append(reply.status)
            if reply.status == 429 { refused = refused ?? reply }
        }
        #expect(statuses == [201, 201, 201, 429, 429], "\(statuses)")
        let answer = try #require(refused)
        let now = Timestamp.seconds()
        let wait = try #require(retryAfter(answer), "\(answer.body)")
        #expect(abs(wait - (86_400 - now % 86_400)) <= 5 && answer.body.contains("today"), "\(answer.body)")
        let log = try String(contentsOfFile: collector.directory + "/collector.log", encoding: .utf8)
        #expect(log.contains(#""tenken_reason":"quota_exceeded""#))
    }

    @Test(
        """
        a report of compressible failures is stored compressed; a machine naming new pending updates in each \
        report keeps only those of its latest full check
        """)
    func storedBytesAndSightings() async throws {
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let (key, keyID) = try await CollectorTests.enrollDirectly(in: collector.store, scratch: scratch, name: "m1")
        // Its policy, known to the collector: one rule, of which each report below is a full check.
        try await collector.store.setPolicy(keyID: keyID, digest: CollectorTests.Signer.policy.digest)
        try await collector.store.addPolicy(
            RegisteredPolicy(
                digest: CollectorTests.Signer.policy.digest, name: "updates", rules: ["security-updates-applied"],
                addedAt: 1))
        let signer = CollectorTests.Signer(scratch: scratch, key: key, machineID: "m1")
        func finding(_ rule: String, _ title: String, updates: [String] = []) -> [String: Any] {
            [
                "ruleId": rule, "kind": "pending-updates", "status": "fail", "severity": "high",
                "title": ["ja": title, "en": title], "remediation": ["ja": "", "en": ""], "clauses": ["001 第6条7"],
                "evidence": updates.map { package in
                    [
                        "source": "update", "confidence": "confirmed", "software": "", "item": package,
                        "version": "2", "installed": "1", "detail": "security", "archive": "bookworm-security",
                    ]
                },
                "errors": [] as [Any], "notes": [] as [Any],
            ]
        }
        // 400 failing findings, each titled with 1,000 bytes of the same text: about 800 kB of problems.
        let title = String(repeating: "漏えい", count: 111)
        let (flood, floodReport) = try signer.signed(sequence: 1, compressed: true) { object in
            object["findings"] = (0..<400).map { finding("rule-\($0)", title) }
            object["verdict"] = "non-compliant"
        }
        let sent = try FileManager.default.attributesOfItem(atPath: flood)[.size] as! Int
        #expect(try await curl.post("/api/v1/reports", file: flood).status == 201)
        let queue = try DatabaseQueue(path: collector.database)
        let stored = try await queue.read { db in
            try Int.fetchOne(
                db, sql: "SELECT length(problems) FROM reports WHERE report_id = ?", arguments: [floodReport.reportID])
        }
        let problems = try #require(stored)
        #expect(problems < 20_000 && problems < sent * 4, "\(problems) bytes stored for a \(sent)-byte request")
        #expect(try await collector.store.fleet()[0].problems.count == 400)

        // Ten full checks, each naming 2,000 pending updates no other names.
        let clock = ContinuousClock()
        var slowest = Duration.zero
        for round in 0..<10 {
            let packages = (0..<2_000).map { "package-\(round)-\($0)" }
            let (file, _) = try signer.signed(sequence: 2 + round, compressed: true) { object in
                object["findings"] = [finding("security-updates-applied", "updates", updates: packages)]
                object["verdict"] = "non-compliant"
            }
            let started = clock.now
            #expect(try await curl.post("/api/v1/reports", file: file).status == 201)
            slowest = max(slowest, clock.now - started)
        }
        let rows = try await queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM update_sightings WHERE key_id = ?", arguments: [keyID])
        }
        #expect(rows == 2_000, "\(rows ?? -1) sightings kept")
        #expect(slowest < .seconds(2), "a report took \(slowest)")
    }

    @Test("key rotations a day per machine: past the limit 429 with Retry-After; a machine keeps 8 retired keys")
    func rotations() async throws {
        let collector = try await LoopbackCollector(
            directory: scratch.path + "/collector", options: ["--rotations-per-day", "10"])
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let (first, machine) = try await CollectorTests.enrollDirectly(
            in: collector.store, scratch: scratch, name: "m1")
        var key = first
        for round in 1...10 {
            let next = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
            try scratch.write(
                "rotate.jws", try KeyRotation.request(current: key, next: next, issuedAt: Timestamp.seconds()))
            #expect(try await post(curl, "/api/v1/rotate", scratch.path + "/rotate.jws").status == 200)
            // The new key signs a report: the rotation completes, the key before it retires.
            let signer = CollectorTests.Signer(scratch: scratch, key: next, machineID: "m1")
            #expect(try await curl.post("/api/v1/reports", file: try signer.signed(sequence: round).0).status == 201)
            key = next
        }
        let next = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
        try scratch.write(
            "rotate.jws", try KeyRotation.request(current: key, next: next, issuedAt: Timestamp.seconds()))
        let refused = try await post(curl, "/api/v1/rotate", scratch.path + "/rotate.jws")
        #expect(refused.status == 429 && (retryAfter(refused) ?? 0) > 0, "\(refused.body)")
        let queue = try DatabaseQueue(path: collector.database)
        let keys = try await queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM machine_keys WHERE machine = ?", arguments: [machine])
        }
        #expect(keys == 1 + ReportAdmission.retiredKeysKept)
    }
}
