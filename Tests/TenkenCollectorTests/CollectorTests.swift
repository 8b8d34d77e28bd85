import Crypto
import Foundation
import GRDB
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector
@testable import TenkenScan

/// The real collector on loopback with real TLS, and curl (pinned to the collector's own CA)
/// as the client.
@Suite("collector", Needs.curl)
struct CollectorTests {
    /// Reports of the workstation fixture, signed as a given machine.
    struct Signer {
        let scratch: ScratchTree
        let key: MachineKey
        /// The identity the reports give (the collector wants the enrolled one); the fixture's by default.
        var machineID = Fixture.workstationMachineID
        var dmiSerial: String?
        static let policy = try! PolicyLoader.loadDefault().selecting(["no-p2p-software", "reboot-not-pending"]).get()
        /// What it checks: two rules of the default policy unless said otherwise.
        var checked = Self.policy

        /// `compressed`: as agents send reports (`ReportPayload`), else as `tenken check --sign`.
        func signed(
            sequence: Int, startedAt: String? = nil, compressed: Bool = false,
            edit: (inout [String: Any]) -> Void = { _ in }
        ) throws -> (String, CheckReport) {
            var report = Check.run(root: try Fixture.root("workstation"), policy: checked)
            report.sequence = sequence
            var object = try JSONSerialization.jsonObject(with: try report.json()) as! [String: Any]
            if let startedAt { object["startedAt"] = startedAt }
            // As the agent reports on the machine itself (the fixture stands in for its root).
            object["root"] = "/"
            var host = object["host"] as! [String: Any]
            host["machineId"] = machineID
            host["dmiSerial"] = dmiSerial
            object["host"] = host
            let counts = object["counts"] as? [String: Int]
            edit(&object)
            // An edit of the findings gets the counts that follow from them, unless it set its own.
            if object["counts"] as? [String: Int] == counts, let findings = object["findings"] as? [[String: Any]] {
                object["counts"] = CheckReport.counts(
                    of: findings.compactMap { ($0["status"] as? String).flatMap(Finding.Status.init(rawValue:)) })
            }
            let name = "report-\(sequence)-\(report.reportID).jws"
            let json = Array(try JSONSerialization.data(withJSONObject: object))
            try scratch.write(name, try ReportPayload.sign(json, with: key, compressed: compressed))
            return (scratch.path + "/" + name, report)
        }
    }

    /// POST /api/v1/enroll as `tenken enroll` sends it (signed by `key`), for the workstation fixture's machine-id.
    static func enroll(
        _ curl: Curl, token: String, key: MachineKey, hostname: String = "pc", dmiSerial: String? = nil,
        issuedAt: Int = Timestamp.seconds()
    ) async throws -> Curl.Reply {
        try await enroll(
            curl,
            request: try EnrollmentRequest.sign(
                enrollment(token: token, hostname: hostname, dmiSerial: dmiSerial, issuedAt: issuedAt), with: key))
    }

    static func enrollment(
        token: String, hostname: String = "pc", dmiSerial: String? = nil, issuedAt: Int = Timestamp.seconds()
    ) -> EnrollmentRequest.Payload {
        EnrollmentRequest.Payload(
            token: token, machineId: Fixture.workstationMachineID, hostname: hostname, dmiSerial: dmiSerial,
            issuedAt: Timestamp.format(seconds: issuedAt))
    }

    /// POST /api/v1/enroll with `request` as the body.
    static func enroll(_ curl: Curl, request: String, type: String = "application/jose") async throws -> Curl.Reply {
        try await curl(["-H", "Content-Type: " + type, "--data-binary", request, curl.base + "/api/v1/enroll"])
    }

    @Test("enrollment, verified ingest, acknowledgement by id, replay, forgery, clock and size refused, TLS 1.2+ only")
    func enrollAndIngest() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        var info = stat()
        #expect(stat(collector.files.caKey, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)

        #expect(try await curl.get("/healthz").body == "ok")
        #expect(
            try await runDetached([
                "/usr/bin/curl", "-sS", "--cacert", collector.files.caCertificate, "--tls-max", "1.1",
                collector.base + "/healthz",
            ]).status != 0)
        #expect(
            // Plain HTTP is not served
            try await runDetached(["/usr/bin/curl", "-sS", "http://127.0.0.1:\(collector.port)/healthz"]).status != 0)

        let token = try await collector.enrollmentToken()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        func enroll() async throws -> Int {
            try await Self.enroll(curl, token: token, key: key, hostname: "kensa-pc01", dmiSerial: "PF3ABCDE").status
        }
        #expect(try await enroll() == 201)
        #expect(try await enroll() == 403)
        try scratch.write(
            "hostile.json",
            #"{"token":"x","publicKey":"AAAA","machineId":"m","hostname":"\#(String(repeating: "h", count: 300))"}"#)
        #expect(
            try await curl.post("/api/v1/enroll", file: scratch.path + "/hostile.json", type: "application/json").status
                == 400)
        #expect(try await collector.store.machine(keyID: MachineKey.thumbprint(key.publicKey))?.dmiSerial == "PF3ABCDE")

        let signer = Signer(scratch: scratch, key: key, dmiSerial: "PF3ABCDE")
        let (first, firstReport) = try signer.signed(sequence: 1)
        let stored = try await curl.post("/api/v1/reports", file: first)
        #expect(stored.status == 201)
        #expect(stored.body.contains(firstReport.reportID))
        let again = try await curl.post("/api/v1/reports", file: first)
        #expect(again.status == 200 && again.body.contains("\"duplicate\":true"))
        #expect(try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 1).0).status == 409)
        // Dated ten minutes ahead of the collector: 422, which the agent retries; an older one is fine,
        // but not one from before the machine enrolled.
        let future = try await curl.post(
            "/api/v1/reports",
            file: try signer.signed(sequence: 2, startedAt: Timestamp.format(seconds: Timestamp.seconds() + 600)).0)
        #expect(future.status == 422 && future.body.contains("future"))
        #expect(
            try await curl.post(
                "/api/v1/reports",
                file: try signer.signed(sequence: 2, startedAt: Timestamp.format(seconds: Timestamp.seconds() - 60)).0
            ).status == 201)
        let beforeEnrollment = try await curl.post(
            "/api/v1/reports",
            file: try signer.signed(sequence: 3, startedAt: Timestamp.format(seconds: Timestamp.seconds() - 3600)).0)
        #expect(beforeEnrollment.status == 409 && beforeEnrollment.body.contains("before the machine enrolled"))
        // Signed by an enrolled key is not the same as well formed.
        #expect(
            try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 3) { $0["verdict"] = "pwned" }.0)
                .status == 400)
        #expect(
            try await curl.post(
                "/api/v1/reports", file: try signer.signed(sequence: 3) { $0["reportId"] = "../../etc" }.0
            ).status == 400)
        #expect(
            try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 3) { $0["findings"] = "none" }.0)
                .status == 400)
        // A report that calls itself compliant over a failure, or over a rule it could not check.
        let compliant = try await curl.post(
            "/api/v1/reports", file: try signer.signed(sequence: 3) { $0["verdict"] = "compliant" }.0)
        #expect(compliant.status == 400 && compliant.body.contains("does not follow from the findings"))
        let overError = try await curl.post(
            "/api/v1/reports",
            file: try signer.signed(sequence: 3) { object in
                var findings = object["findings"] as! [[String: Any]]
                for index in findings.indices { findings[index]["status"] = index == 0 ? "error" : "pass" }
                object["findings"] = findings
                object["verdict"] = "compliant"
            }.0)
        #expect(overError.status == 400 && overError.body.contains("does not follow"), "\(overError.body)")
        let twice = try await curl.post(
            "/api/v1/reports",
            file: try signer.signed(sequence: 3) { object in
                let findings = object["findings"] as! [Any]
                object["findings"] = findings + findings
            }.0)
        #expect(twice.status == 400 && twice.body.contains("twice"))

        var forged = String(
            decoding: try scratch.read(first.split(separator: "/").last.map(String.init)!), as: UTF8.self)
        forged = forged.replacingOccurrences(of: ".", with: ".e", options: [], range: forged.range(of: "."))
        try scratch.write("forged.jws", forged)
        #expect(try await curl.post("/api/v1/reports", file: scratch.path + "/forged.jws").status == 400)
        let stranger = Signer(
            scratch: scratch, key: try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/stranger"))
        // The enrolled key speaks only for the enrolled machine: not another machine-id or DMI serial.
        var elsewhere = signer
        elsewhere.machineID = "0123456789abcdef0123456789abcdef"
        let otherID = try await curl.post("/api/v1/reports", file: try elsewhere.signed(sequence: 3).0)
        #expect(otherID.status == 400 && otherID.body.contains("machine-id is not the enrolled"), "\(otherID.body)")
        elsewhere = signer
        elsewhere.dmiSerial = nil
        let noSerial = try await curl.post("/api/v1/reports", file: try elsewhere.signed(sequence: 3).0)
        #expect(noSerial.status == 400 && noSerial.body.contains("DMI serial"), "\(noSerial.body)")
        // Counts that do not follow from the findings; a sequence that would make later reports replays.
        let counts = try await curl.post(
            "/api/v1/reports", file: try signer.signed(sequence: 3) { $0["counts"] = ["pass": 99] }.0)
        #expect(counts.status == 400 && counts.body.contains("counts do not follow"), "\(counts.body)")
        let leap = try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 2 + 10_001).0)
        #expect(leap.status == 409 && leap.body.contains("more than 10000 above"), "\(leap.body)")
        #expect(try await curl.post("/api/v1/reports", file: try stranger.signed(sequence: 3).0).status == 403)
        try scratch.write("huge.jws", String(repeating: "a", count: 2 << 20))
        #expect(try await curl.post("/api/v1/reports", file: scratch.path + "/huge.jws").status == 413)

        let kept = try await collector.store.reports(keyID: MachineKey.thumbprint(key.publicKey))
        #expect(kept.map(\.sequence) == [1, 2])
        #expect(kept.first?.verdict == "non-compliant")
        #expect(kept.first?.problems.map(\.status) == ["fail", "warn"])  // P2P fails; the reboot is pending
        #expect(try JWS.verify(kept[0].token).keyID == MachineKey.thumbprint(key.publicKey))

        // A machine that could not check everything is shown as incomplete, its unchecked rules named.
        let incomplete = try signer.signed(sequence: 3) { object in
            var findings = object["findings"] as! [[String: Any]]
            for index in findings.indices { findings[index]["status"] = index == 0 ? "error" : "pass" }
            object["findings"] = findings
            object["verdict"] = "incomplete"
        }
        #expect(try await curl.post("/api/v1/reports", file: incomplete.0).status == 201)
        let admin = try await collector.adminToken()
        let fleet =
            try JSONSerialization.jsonObject(
                with: Data(try await curl.get("/api/v1/fleet", token: admin).body.utf8)) as! [String: Any]
        let machine = (fleet["machines"] as! [[String: Any]]).first!
        #expect(machine["verdict"] as? String == "incomplete")
        #expect((machine["problems"] as! [[String: Any]]).map { $0["status"] as? String } == ["error"])
        #expect((fleet["counts"] as! [String: Any])["incomplete"] as? Int == 1)
        let page = try await curl.get("/?lang=en", token: admin).body
        #expect(page.contains("<td class=\"incomplete\">incomplete</td>"), "\(page)")
    }

    @Test(
        """
        only a key of the prime-order subgroup is enrolled (small-order, off the curve, mixed order refused, the \
        token kept); a report forged for a small-order key is refused at ingest and by tenken verify
        """)
    func smallOrderKeys() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let spare = try await collector.enrollmentToken()
        let payload = String(
            decoding: try JSONEncoder().encode(Self.enrollment(token: spare)), as: UTF8.self)
        // Small order (signed as the signature equation accepts), off the curve (y = 2), and a
        // real key plus a point of order 8, each as the key of a request that names it.
        let real = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        let refusedKeys =
            Ed25519Vectors.smallOrderPoints.map { ($0, "refused") } + [
                ([2] + [UInt8](repeating: 0, count: 31), "prime-order subgroup"),
                (Ed25519Vectors.adding(real, Ed25519Vectors.smallOrderPoints[6]), "prime-order subgroup"),
            ]
        for (point, why) in refusedKeys {
            let refused = try await Self.enroll(
                curl,
                request: Ed25519Vectors.forgedToken(
                    key: point, r: Ed25519Vectors.smallOrderPoints[0],
                    payload: payload))
            #expect(
                refused.status == 400 && refused.body.contains("key is refused") && refused.body.contains(why),
                "\(point): \(refused.body)")
        }
        #expect(StrictEd25519.publicKeyProblem(real) == nil)
        #expect(try await collector.store.fleet().isEmpty)
        // The token was not spent on any of them.
        #expect(try await collector.store.enrollmentTokens().allSatisfy { $0.usedAt == nil })
        // A small-order key already in the store (enrolled before keys were checked): the identity,
        // for which R = identity and S = 0 verify every message. Its forged "compliant" report is
        // refused, and so is it by `tenken verify`.
        let zero = [UInt8](repeating: 0, count: 32)
        let identity = Ed25519Vectors.smallOrderPoints[0]
        let zeroKey = try Curve25519.Signing.PublicKey(rawRepresentation: identity)
        let token = CollectorApplication.newToken()
        try await collector.store.addEnrollmentToken(hash: CollectorApplication.tokenHash(token), now: 1)
        #expect(
            try await collector.store.enroll(
                tokenHash: CollectorApplication.tokenHash(token),
                machine: EnrolledMachine(
                    keyID: MachineKey.thumbprint(zeroKey), publicKey: Base64URL.encode(identity),
                    machineID: Fixture.workstationMachineID, hostname: "pc", dmiSerial: nil), now: 1
            ).isBound)
        let report = Check.run(root: try Fixture.root("workstation"), policy: Signer.policy)
        var object = try JSONSerialization.jsonObject(with: try report.json()) as! [String: Any]
        object["sequence"] = 1
        let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        try scratch.write(
            "forged.jws",
            Ed25519Vectors.forgedToken(key: identity, r: identity, payload: json))
        // The signature equation alone accepts it: the refusal is the strict check's.
        #expect(zeroKey.isValidSignature(identity + zero, for: Array("anything".utf8)))
        let ingested = try await curl.post("/api/v1/reports", file: scratch.path + "/forged.jws")
        #expect(ingested.status == 400 && ingested.body.contains("small order"), "\(ingested.body)")
        #expect(try await collector.store.reports(keyID: MachineKey.thumbprint(zeroKey)).isEmpty)
        let verify = try run([Programs.tenken, "verify", scratch.path + "/forged.jws", "--lang", "en"])
        #expect(verify.status == 1 && verify.error.contains("small order"), "\(verify.error)")
        let pinned = try run([
            Programs.tenken, "verify", scratch.path + "/forged.jws", "--public-key", Base64URL.encode(identity),
            "--lang",
            "en",
        ])
        #expect(pinned.status != 0 && pinned.error.contains("refused"), "\(pinned.error)")
    }

    @Test(
        """
        TLS 1.2 offers AEAD suites only; every answer has HSTS, nosniff and frame-ancestors, authenticated ones \
        no-store; the database and its -wal and -shm are 0600; a missing database directory is an error
        """
    )
    func hardening() async throws {
        let scratch = try ScratchTree()
        // As a permissive umask would leave it: the collector makes it private.
        try scratch.write("collector/collector.sqlite", "", mode: 0o644)
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        for (cipher, served) in [
            ("ECDHE-ECDSA-AES128-SHA", false), ("ECDHE-ECDSA-AES256-SHA", false),
            ("ECDHE-ECDSA-AES128-GCM-SHA256", true), ("ECDHE-ECDSA-CHACHA20-POLY1305", true),
        ] {
            let reply = try await curl(["--tls-max", "1.2", "--ciphers", cipher, collector.base + "/healthz"])
            #expect((reply.status == 200) == served, "\(cipher): \(reply.status)")
        }
        func headers(_ path: String, token: String? = nil) async throws -> (status: Int, headers: String) {
            let reply = try await curl(
                (token.map { ["-H", "Authorization: Bearer " + $0] } ?? []) + [
                    "-D", "-", "-o", "/dev/null", collector.base + path,
                ])
            return (reply.status, reply.body.lowercased())
        }
        let admin = try await collector.adminToken()
        for (path, token, status, isPrivate) in [
            ("/healthz", nil, 200, false), ("/no-such-page", nil, 404, false), ("/", nil, 401, true),
            ("/?lang=en", admin, 200, true), ("/api/v1/fleet?format=csv", admin, 200, true),
            ("/api/v1/fleet", admin, 200, true), ("/api/v1/reports/none", admin, 404, true),
        ] as [(String, String?, Int, Bool)] {
            let answer = try await headers(path, token: token)
            #expect(answer.status == status, "\(path)")
            #expect(answer.headers.contains("strict-transport-security: max-age=31536000"), "\(path)")
            #expect(answer.headers.contains("x-content-type-options: nosniff"), "\(path)")
            #expect(answer.headers.contains("frame-ancestors 'none'"), "\(path): \(answer.headers)")
            #expect(answer.headers.contains("cache-control: no-store") == isPrivate, "\(path): \(answer.headers)")
        }
        _ = try await collector.enrollmentToken()
        for file in ["collector.sqlite", "collector.sqlite-wal", "collector.sqlite-shm"] {
            var info = stat()
            #expect(stat(scratch.path + "/collector/" + file, &info) == 0, "\(file)")
            #expect(info.st_mode & 0o777 == 0o600, "\(file): \(String(info.st_mode & 0o777, radix: 8))")
        }
        #expect(throws: SQLiteReportStore.Unusable.self) {
            try SQLiteReportStore(path: scratch.path + "/mistyped/collector.sqlite")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/mistyped"))
    }

    /// Holds `idle` connections that never start TLS and `slow` ones that, after their handshake,
    /// send a request head a byte a second; prints "open" once all are open, then, when done, how
    /// many of each the collector closed and the longest any was kept.
    static let slowClients = """
        import json, resource, socket, ssl, sys, time
        port, ca, idle_count, slow_count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle_count)]
        context = ssl.create_default_context(cafile=ca)
        slow = [context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
                for _ in range(slow_count)]
        opened = time.monotonic()
        print("open", flush=True)
        head = b"GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Slow: " + b"a" * 60
        closed = {"idle": {}, "slow": {}}
        for second in range(30):
            for index, client in enumerate(slow):
                if index in closed["slow"]:
                    continue
                try:
                    client.send(head[second:second + 1])
                except OSError:
                    closed["slow"][index] = time.monotonic() - opened
            for index, client in enumerate(idle):
                if index in closed["idle"]:
                    continue
                client.setblocking(False)
                try:
                    if client.recv(1) == b"":
                        closed["idle"][index] = time.monotonic() - opened
                except BlockingIOError:
                    pass
                except OSError:
                    closed["idle"][index] = time.monotonic() - opened
            if len(closed["idle"]) == idle_count and len(closed["slow"]) == slow_count:
                break
            time.sleep(1)
        print(json.dumps({kind: {"closed": len(times), "longest": max(times.values(), default=0)}
                          for kind, times in closed.items()}), flush=True)
        """

    @Test(
        """
        started under the unit's file limit, the collector answers at once while 2,000 idle and slow clients hold \
        connections, and closes them all
        """,
        Needs.programs("/usr/bin/prlimit"))
    func slowAndIdleClients() async throws {
        let scratch = try ScratchTree()
        let unit = try String(
            contentsOfFile: URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appending(path: "packaging/tenken-collector.service").path,
            encoding: .utf8)
        let unitLimit = try #require(
            unit.split(separator: "\n").first { $0.hasPrefix("LimitNOFILE=") }.flatMap { Int($0.dropFirst(12)) })
        #expect(unitLimit >= 4096)
        // The unit's limit, or this machine's hard limit where that is lower (20,000 in the sandbox here).
        var hard = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &hard)
        let limit = min(unitLimit, Int(clamping: hard.rlim_max))
        // All from one address: its own limit raised, so that the deadlines are what closes them.
        let collector = try await LoopbackCollector(
            directory: scratch.path + "/collector", launcher: ["/usr/bin/prlimit", "--nofile=\(limit):\(limit)", "--"],
            options: ["--connections-per-address", "4000"])
        defer { Task { await collector.stop() } }
        try scratch.write("slow.py", Self.slowClients)
        let clients = Process()
        clients.executableURL = URL(filePath: "/usr/bin/env")
        clients.arguments = [
            "python3", scratch.path + "/slow.py", String(collector.port), collector.files.caCertificate, "1500", "500",
        ]
        let output = Pipe()
        clients.standardOutput = output
        try clients.run()
        defer { if clients.isRunning { clients.terminate() } }
        // Read off the cooperative threads: the clients take seconds between lines.
        @Sendable func line() async -> String? {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    var bytes: [UInt8] = []
                    while let byte = output.fileHandleForReading.readData(ofLength: 1).first, byte != 0x0A {
                        bytes.append(byte)
                    }
                    continuation.resume(returning: bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        #expect(await line() == "open")
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        for _ in 0..<5 {
            let clock = ContinuousClock()
            let started = clock.now
            #expect(try await curl(["--max-time", "5", collector.base + "/healthz"]).status == 200)
            #expect(clock.now - started < .seconds(1), "a request waited \(clock.now - started) among 2,000 clients")
        }
        let summary = try #require(await line())
        let result = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as! [String: [String: Double]]
        // Both kinds have 10 s from the accept to a complete request head. The clients see a close
        // late: a slow one at its second write after it (the first still fits the send buffer).
        #expect(result["idle"]?["closed"] == 1500, "\(summary)")
        #expect(result["slow"]?["closed"] == 500, "\(summary)")
        #expect((result["idle"]?["longest"] ?? 99) < 14 && (result["slow"]?["longest"] ?? 99) < 20, "\(summary)")
        #expect(try await curl.get("/healthz").status == 200)
    }

    @Test(
        """
        a report of some rules, of another policy, of another root, or whose findings are not one per rule of its \
        policy is stored but never shows the machine compliant; a token names the policy its machine must be \
        checked with
        """
    )
    func partialChecks() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let admin = try await collector.adminToken()
        // Enrolled over HTTPS with a token for the two-rule policy the signer checks with.
        let token = CollectorApplication.newToken()
        try await collector.store.addEnrollmentToken(
            hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds() - 60,
            policyDigest: Signer.policy.digest)
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        #expect(
            try await Self.enroll(curl, token: token, key: key).status == 201)
        let keyID = MachineKey.thumbprint(key.publicKey)
        #expect(try await collector.store.machine(keyID: keyID)?.policyDigest == Signer.policy.digest)
        let signer = Signer(scratch: scratch, key: key)
        // Known to the collector, with its two rules: a full check has a finding for each.
        try await collector.store.addPolicy(
            RegisteredPolicy(
                digest: Signer.policy.digest, name: "two rules", rules: Signer.policy.rules.map(\.id), addedAt: 1))
        func passing(_ object: inout [String: Any]) {
            var findings = object["findings"] as! [[String: Any]]
            for index in findings.indices { findings[index]["status"] = "pass" }
            object["findings"] = findings
            object["verdict"] = "compliant"
        }
        func fleetMachine() async throws -> [String: Any] {
            let fleet =
                try JSONSerialization.jsonObject(
                    with: Data(try await curl.get("/api/v1/fleet", token: admin).body.utf8)) as! [String: Any]
            return (fleet["machines"] as! [[String: Any]]).first!
        }
        // The expected policy on the machine's own root: compliant.
        #expect(
            try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 1, edit: passing).0).status == 201)
        #expect(try await fleetMachine()["verdict"] as? String == "compliant")
        #expect(try await fleetMachine()["fullCheck"] as? Bool == true)
        // The same, of a copy under --root, of one rule of it (--rules), or of another policy: stored,
        // shown incomplete, named "not a full check", and unknown for the contracts.
        let narrowed = try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get()
        for (sequence, edit) in [
            (2, { (object: inout [String: Any]) in object["root"] = "/mnt/clean-copy" }),
            (
                3,
                { (object: inout [String: Any]) in
                    var policy = object["policy"] as! [String: Any]
                    policy["digest"] = narrowed.digest
                    object["policy"] = policy
                }
            ),
            (
                4,
                { (object: inout [String: Any]) in
                    var policy = object["policy"] as! [String: Any]
                    policy["digest"] = PolicyDigest.embeddedDefault
                    object["policy"] = policy
                }
            ),
            // Its expected policy, with no findings at all, one rule left out, or a rule given
            // in place of another: nothing proves a check of every rule.
            (5, { (object: inout [String: Any]) in object["findings"] = [] as [Any] }),
            (
                6,
                { (object: inout [String: Any]) in object["findings"] = Array((object["findings"] as! [Any]).prefix(1))
                }
            ),
            (
                7,
                { (object: inout [String: Any]) in
                    var findings = object["findings"] as! [[String: Any]]
                    findings[1]["ruleId"] = "screen-lock"
                    object["findings"] = findings
                }
            ),
        ] as [(Int, (inout [String: Any]) -> Void)] {
            let (file, report) = try signer.signed(sequence: sequence) { object in
                passing(&object)
                edit(&object)
            }
            #expect(try await curl.post("/api/v1/reports", file: file).status == 201)
            #expect(try await collector.store.report(id: report.reportID)?.fullCheck == false)
            let machine = try await fleetMachine()
            #expect(machine["verdict"] as? String == "incomplete", "\(sequence)")
            #expect(machine["fullCheck"] as? Bool == false)
            let problems = machine["problems"] as! [[String: Any]]
            #expect(problems.map { $0["ruleId"] as? String } == ["full-check"], "\(problems)")
            let contract =
                try JSONSerialization.jsonObject(
                    with: Data(try await curl.get("/api/v1/contracts/002", token: admin).body.utf8)) as! [String: Any]
            #expect(
                (contract["unknown"] as? [String]) == [keyID] && (contract["compliant"] as? [String])?.isEmpty == true)
        }
        // A partial check that finds a failure still fails: only a pass needs the whole policy.
        #expect(
            try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 8) { $0["root"] = "/x" }.0).status
                == 201)
        #expect(try await fleetMachine()["verdict"] as? String == "non-compliant")
        let page = try await curl.get("/?lang=en", token: admin).body
        #expect(!page.contains("not a full check"))
        #expect(
            try await curl.post(
                "/api/v1/reports",
                file: try signer.signed(sequence: 9) {
                    passing(&$0)
                    $0["root"] = "/x"
                }.0
            ).status == 201)
        #expect(try await curl.get("/?lang=en", token: admin).body.contains("not a full check"))
    }

    @Test(
        """
        reports compressed as agents send them: read, kept as signed byte for byte; \
        damaged frames, inflation past the limit and unknown payload types refused
        """
    )
    func compressedReports() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let admin = try await collector.adminToken()
        let (key, keyID) = try await Self.enrollDirectly(in: collector.store, scratch: scratch, name: "agent")
        let signer = Signer(scratch: scratch, key: key, machineID: "agent")

        let (file, report) = try signer.signed(sequence: 1, compressed: true)
        #expect(try await curl.post("/api/v1/reports", file: file).status == 201)
        let sent = String(decoding: try scratch.read(String(file.split(separator: "/").last!)), as: UTF8.self)
        // (Curl drops the final newline)
        #expect(try await curl.get("/api/v1/reports/\(report.reportID)", token: admin).body == sent)
        let kept = try #require(try await collector.store.report(id: report.reportID))
        #expect(kept.verdict == "non-compliant" && kept.problems.map(\.status) == ["fail", "warn"])
        #expect(kept.signed.payload == (try JWS.verify(sent)).payload)  // the signed frame itself, not compressed again

        // 2 MiB of JSON in a few kilobytes, signed by an enrolled key: past the 1 MiB limit.
        let bomb = try await curl.post(
            "/api/v1/reports",
            file: try signer.signed(sequence: 2, compressed: true) {
                $0["padding"] = String(repeating: "x", count: 2 << 20)
            }.0)
        #expect(bomb.status == 413 && bomb.body.contains("inflates beyond"), "\(bomb.body)")
        let frame = try #require(Zstd.compress(Array(#"{"sequence":2}"#.utf8)))
        for (name, payload, type, reason) in [
            ("damaged", Array(frame.dropLast(2)), ReportPayload.zstdContentType, "not a valid zstd frame"),
            ("gzip", frame, "application/gzip", "unknown payload type"),
        ] {
            try scratch.write(name + ".jws", try JWS.sign(payload, with: key, contentType: type))
            let refused = try await curl.post("/api/v1/reports", file: scratch.path + "/" + name + ".jws")
            #expect(refused.status == 400 && refused.body.contains(reason), "\(name): \(refused.body)")
        }
        // Plain JSON still taken
        #expect(try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 2).0).status == 201)
        #expect(try await collector.store.reports(keyID: keyID).map(\.sequence) == [1, 2])
    }

    @Test("fleet views need an admin token: dashboard, JSON, CSV with BOM, per-contract, stored report, metrics")
    func fleetViews() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let admin = try await collector.adminToken()
        // Two machines: one reporting a P2P client under a hostile hostname, one never reporting.
        for (name, host) in [("a", "<script>alert(1)</script>"), ("b", "=cmd|' /C calc'!A0")] {
            let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/" + name)
            let machine = EnrolledMachine(
                keyID: MachineKey.thumbprint(key.publicKey),
                publicKey: Base64URL.encode(key.publicKey.rawRepresentation),
                machineID: "machine-" + name, hostname: host, dmiSerial: nil)
            #expect(
                try await collector.store.enroll(
                    tokenHash: CollectorApplication.tokenHash(try await collector.enrollmentToken()), machine: machine,
                    now: Timestamp.seconds()
                ).isBound)
            if name == "a" {
                let (file, _) = try Signer(scratch: scratch, key: key, machineID: "machine-" + name).signed(
                    sequence: 1
                ) { object in
                    var host = object["host"] as! [String: Any]
                    host["hostname"] = "<script>alert(1)</script>"
                    object["host"] = host
                }
                #expect(try await curl.post("/api/v1/reports", file: file).status == 201)
            }
        }

        for path in ["/", "/api/v1/fleet", "/api/v1/fleet?format=csv", "/api/v1/contracts/002", "/metrics"] {
            #expect(try await curl.get(path).status == 401, "\(path)")
            #expect(try await curl.get(path, token: "wrong").status == 401, "\(path)")
        }
        // A browser's Basic auth
        #expect(try await curl(["-u", "anyone:" + admin, collector.base + "/"]).status == 200)

        let fleet =
            try JSONSerialization.jsonObject(with: Data(try await curl.get("/api/v1/fleet", token: admin).body.utf8))
            as! [String: Any]
        let counts = fleet["counts"] as! [String: Int]
        #expect(counts["machines"] == 2 && counts["nonCompliant"] == 1 && counts["neverReported"] == 1)
        let rules = fleet["rules"] as! [[String: Any]]
        #expect(rules.map { $0["ruleId"] as! String } == ["no-p2p-software", "reboot-not-pending"])  // failures first
        let contract =
            try JSONSerialization.jsonObject(
                with: Data(try await curl.get("/api/v1/contracts/002", token: admin).body.utf8)) as! [String: Any]
        #expect((contract["nonCompliant"] as! [String]).count == 1 && (contract["unknown"] as! [String]).count == 1)
        #expect(((contract["clauses"] as! [[String: Any]]).map { $0["clause"] as! String }) == ["002 第11条(10)キ"])
        #expect(try await curl.get("/api/v1/contracts/999", token: admin).status == 404)

        let page = try await curl.get("/?lang=ja", token: admin).body
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"))
        #expect(page.contains("不適合") && page.contains("吉川市"))
        #expect(try await curl.get("/?lang=en", token: admin).body.contains("Non-compliant"))

        let csvFile = scratch.path + "/fleet.csv"
        #expect(
            try await curl([
                "-H", "Authorization: Bearer " + admin, "-o", csvFile,
                collector.base + "/api/v1/fleet?format=csv&lang=ja",
            ]).status == 200)
        let csv = try scratch.read("fleet.csv")
        #expect(Array(csv.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let csvText = String(decoding: csv.dropFirst(3), as: UTF8.self)
        #expect(csvText.hasPrefix("ホスト名,報告上のホスト名,machine-id,") && csvText.contains("\r\n"))
        #expect(csvText.contains("\r\n'=cmd|' /C calc'!A0,,machine-b,"))  // no formula for Excel to run
        #expect(csvText.contains("no-p2p-software,fail,critical,"))
        let contractCSV = try await curl.get("/api/v1/contracts/002?format=csv&lang=en", token: admin).body
        #expect(
            contractCSV.contains("002,Yoshikawa City,<script>alert(1)</script>,")
                && contractCSV.contains("non-compliant,002 第11条(10)キ,no-p2p-software"))

        let keyA = MachineKey.thumbprint(try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/a").publicKey)
        let history =
            try JSONSerialization.jsonObject(
                with: Data(try await curl.get("/api/v1/machines/\(keyA)/reports", token: admin).body.utf8))
            as! [[String: Any]]
        #expect(history.count == 1)
        let token = try await curl.get("/api/v1/reports/\(history[0]["reportID"] as! String)", token: admin).body
        #expect(try JWS.verify(token).keyID == keyA)

        let metrics = try await curl.get("/metrics", token: admin).body
        #expect(metrics.contains(#"tenken_reports_received_total{outcome="stored"} 1"#))
        #expect(metrics.contains(#"tenken_machines{state="non-compliant"} 1"#))
        #expect(metrics.contains("tenken_ingest_duration_seconds_bucket"))
    }

    @Test(
        "the collector keeps when it first saw each pending security update: a deleted history does not make it young")
    func updateSightings() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let admin = try await collector.adminToken()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/m")
        let machine = EnrolledMachine(
            keyID: MachineKey.thumbprint(key.publicKey), publicKey: Base64URL.encode(key.publicKey.rawRepresentation),
            machineID: "machine-m", hostname: "pc-m", dmiSerial: nil, policyDigest: Signer.policy.digest)
        // Enrolled a month ago: its reports of the last days are after that.
        #expect(
            try await collector.store.enroll(
                tokenHash: CollectorApplication.tokenHash(try await collector.enrollmentToken()), machine: machine,
                now: Timestamp.seconds() - 30 * 86_400
            ).isBound)
        // The machine's policy, known to the collector: this one rule, of which each report is a full check.
        try await collector.store.addPolicy(
            RegisteredPolicy(
                digest: Signer.policy.digest, name: "updates", rules: ["security-updates-applied"], addedAt: 1))
        let now = Timestamp.seconds()
        // A compliant report whose only finding warns: a security update within the machine's own limit.
        func send(_ sequence: Int, daysAgo: Int, _ updates: [(String, String, Int?)]) async throws {
            let (file, _) = try Signer(scratch: scratch, key: key, machineID: "machine-m").signed(
                sequence: sequence, startedAt: Timestamp.format(seconds: now - daysAgo * 86_400)
            ) { object in
                let evidence: [[String: Any]] = updates.map { package, installed, seenDaysAgo in
                    var item: [String: Any] = [
                        "source": "update", "confidence": "confirmed", "software": "", "item": package,
                        "version": installed + "+1", "installed": installed, "detail": "security",
                        "archive": "bookworm-security",
                    ]
                    if let seenDaysAgo { item["firstSeen"] = Timestamp.format(seconds: now - seenDaysAgo * 86_400) }
                    return item
                }
                object["findings"] = [
                    [
                        "ruleId": "security-updates-applied", "kind": "pending-updates", "status": "warn",
                        "severity": "high", "title": ["ja": "更新", "en": "updates"],
                        "remediation": ["ja": "", "en": ""], "clauses": ["001 第6条7"], "evidence": evidence,
                        "errors": [], "notes": [],
                    ]
                ]
                object["verdict"] = "compliant"
            }
            #expect(try await curl.post("/api/v1/reports", file: file).status == 201)
        }
        func fleetMachine() async throws -> [String: Any] {
            let fleet =
                try JSONSerialization.jsonObject(
                    with: Data(try await curl.get("/api/v1/fleet", token: admin).body.utf8)) as! [String: Any]
            return (fleet["machines"] as! [[String: Any]])[0]
        }
        try await send(1, daysAgo: 10, [("openssl", "3.0.19-1~deb12u2", nil)])
        // The machine deleted its history: the same update, "first seen" yesterday.
        try await send(2, daysAgo: 1, [("openssl", "3.0.19-1~deb12u2", 1)])
        var seen = try await fleetMachine()
        #expect(seen["securityUpdatesPendingDays"] as? Int == 10, "\(seen)")
        #expect(seen["verdict"] as? String == "non-compliant", "the collector's record fails it")
        let problem = try #require((seen["problems"] as? [[String: Any]])?.first)
        #expect(problem["ruleId"] as? String == "security-updates-applied" && problem["status"] as? String == "fail")
        #expect(problem["byCollector"] as? Bool == true)
        // Upgraded openssl (its sighting goes); a machine's claim that an update is older is believed.
        try await send(3, daysAgo: 0, [("openssl", "3.0.22-1~deb12u2", nil), ("libc6", "2.36-9+deb12u9", 30)])
        seen = try await fleetMachine()
        #expect(seen["securityUpdatesPendingDays"] as? Int == 30, "\(seen)")
        // Nothing pending: nothing to remember against it.
        try await send(4, daysAgo: 0, [])
        seen = try await fleetMachine()
        #expect(seen["securityUpdatesPendingDays"] == nil && seen["verdict"] as? String == "compliant", "\(seen)")
    }

    @Test("fleet summary: silent machines, rules ranked by failures, contracts grouped by clause")
    func summary() {
        let now = 1_795_003_600
        func state(_ key: String, seen: Int?, verdict: String?, problems: [StoredFinding]) -> MachineState {
            MachineState(
                machine: EnrolledMachine(
                    keyID: key, publicKey: "", machineID: key, hostname: "host-" + key, dmiSerial: nil),
                enrolledAt: now - 90 * 86400, lastSeen: seen,
                lastReport: verdict.map {
                    ReportHeader(
                        reportID: key, sequence: 1, startedAt: seen!, receivedAt: seen!, verdict: $0, policyID: "p")
                },
                problems: problems)
        }
        let p2p = StoredFinding(
            ruleID: "no-p2p-software", status: "fail", severity: "critical", titleJa: "P2P", titleEn: "P2P",
            clauses: ["001 第6条7", "002 第11条(10)キ"])
        let av = StoredFinding(
            ruleID: "antivirus-current", status: "error", severity: "high", titleJa: "AV", titleEn: "AV",
            clauses: ["002 第11条(10)ウ"])
        let summary = FleetSummary(
            [
                state("a", seen: now - 3600, verdict: "non-compliant", problems: [p2p]),
                state("b", seen: now - 25 * 3600, verdict: "compliant", problems: []),
                state("c", seen: now - 60, verdict: "incomplete", problems: [av]),
                state("d", seen: nil, verdict: nil, problems: []),
            ], now: now, silentAfterHours: 24, contracts: ContractIndex.embedded())
        #expect(
            summary.counts
                == .init(machines: 4, compliant: 1, nonCompliant: 1, incomplete: 1, silent: 2, neverReported: 1))
        #expect(summary.machines.filter(\.silent).map(\.keyId) == ["b", "d"])
        #expect(summary.rules.map(\.ruleId) == ["no-p2p-software", "antivirus-current"])
        let yoshikawa = summary.contracts.first { $0.id == "002" }!
        #expect(yoshikawa.nonCompliant == ["a"] && yoshikawa.compliant.isEmpty && yoshikawa.unknown == ["b", "c", "d"])
        let prefecture = summary.contracts.first { $0.id == "001" }!
        #expect(prefecture.nonCompliant == ["a"] && prefecture.compliant == ["c"])
        #expect(prefecture.clauses.map(\.clause) == ["001 第6条7"])
        #expect(summary.contracts.map(\.id) == ["000", "001", "002", "003", "004"])
    }

    @Test("init uses given PEM files: the collector serves them; a key of another certificate is refused")
    func givenCertificate() async throws {
        let scratch = try ScratchTree()
        let existing = CertificateAuthority.Files(directory: scratch.path + "/organisation")
        try CertificateAuthority.create(in: existing, hosts: ["127.0.0.1"])
        let other = CertificateAuthority.Files(directory: scratch.path + "/other")
        try CertificateAuthority.create(in: other, hosts: ["127.0.0.1"])
        let adopted = scratch.path + "/collector"
        let mismatched = try await runDetached([
            LoopbackCollector.binary, "init", "--dir", adopted + "/tls", "--certificate", existing.serverCertificate,
            "--key", other.serverKey,
        ])
        #expect(mismatched.status == 2 && mismatched.error.contains("is not the key"))
        let result = try await runDetached([
            LoopbackCollector.binary, "init", "--dir", adopted + "/tls", "--certificate", existing.serverCertificate,
            "--key", existing.serverKey, "--ca", existing.caCertificate,
        ])
        #expect(result.status == 0, "\(result.error)")
        var info = stat()
        #expect(stat(adopted + "/tls/server-key.pem", &info) == 0 && info.st_mode & 0o777 == 0o600)
        let collector = try await LoopbackCollector(directory: adopted)
        #expect(try await Curl(ca: existing.caCertificate, base: collector.base).get("/healthz").body == "ok")
        #expect(try await Curl(ca: other.caCertificate, base: collector.base).get("/healthz").status != 200)
        await collector.stop()
    }

    @Test(
        """
        reports stored by schema v1 stay readable after the upgrade; machines point at their latest; \
        problems read from the signed report
        """
    )
    func upgradeFromV1() async throws {
        let scratch = try ScratchTree()
        let path = scratch.path + "/collector.sqlite"
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        let keyID = MachineKey.thumbprint(key.publicKey)
        let (file, report) = try Signer(scratch: scratch, key: key).signed(sequence: 7)
        let token = String(decoding: try scratch.read(String(file.split(separator: "/").last!)), as: UTF8.self)
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteReportStore.migrator.migrate(queue, upTo: "v1")
            try await queue.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO machines (key_id, public_key, machine_id, hostname, enrolled_at, last_sequence) "
                        + "VALUES (?, ?, 'm', 'old-pc', 1, 7)",
                    arguments: [keyID, Base64URL.encode(key.publicKey.rawRepresentation)])
                try db.execute(
                    sql:
                        "INSERT INTO reports (report_id, key_id, sequence, received_at, verdict, token) "
                        + "VALUES (?, ?, 7, 2, 'non-compliant', ?)",
                    arguments: [report.reportID, keyID, token])
            }
        }
        let store = try SQLiteReportStore(path: path)
        #expect(try await store.report(id: report.reportID)?.token == token)
        let fleet = try await store.fleet()
        #expect(
            fleet.count == 1 && fleet[0].lastReport?.reportID == report.reportID
                && fleet[0].lastReport?.verdict == "non-compliant")
        #expect(fleet[0].problems.map(\.status) == ["fail", "warn"])  // v1 kept none: read from the token
        #expect(
            try await store.report(id: report.reportID)?.problems.map(\.ruleID) == [
                "no-p2p-software", "reboot-not-pending",
            ])
        try await DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE reports SET problems = '[{\"rule'") }
        #expect(
            try await store.report(id: report.reportID)?.problems.map(\.ruleID) == [
                "no-p2p-software", "reboot-not-pending",
            ])  // damaged: read again
    }

    @Test("schema v3 moves each report's problems from their table into the report's row, as they were")
    func upgradeFromV2() async throws {
        let scratch = try ScratchTree()
        let path = scratch.path + "/collector.sqlite"
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        let keyID = MachineKey.thumbprint(key.publicKey)
        let signed = try JWS.verify(try JWS.sign(Array(#"{"x":1}"#.utf8), with: key))
        let compact = try #require(CompactToken(signed))
        // Problems as v2 kept them; they differ from the token's on purpose, to show they are moved, not derived.
        let kept = [
            StoredFinding(
                ruleID: "a-rule", status: "fail", severity: "critical", titleJa: "規則", titleEn: "Rule",
                clauses: ["002 第11条(10)キ", "003 第5条"]),
            StoredFinding(
                ruleID: "b-rule", status: "error", severity: "high", titleJa: "\"引用\"", titleEn: "a\tb", clauses: []),
        ]
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteReportStore.migrator.migrate(queue, upTo: "v2 fleet views")
            try await queue.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO machines (key_id, public_key, machine_id, hostname, enrolled_at, last_sequence, "
                        + "last_report_id) VALUES (?, ?, 'm', 'pc', 1, 3, 'r3')",
                    arguments: [keyID, Base64URL.encode(key.publicKey.rawRepresentation)])
                for id in ["r2", "r3"] {
                    try db.execute(
                        sql: """
                            INSERT INTO reports (report_id, key_id, sequence, received_at, verdict, token, jws_header, jws_payload_zstd, jws_signature)
                            VALUES (?, ?, ?, 2, 'non-compliant', '', ?, ?, ?)
                            """,
                        arguments: [
                            id, keyID, id == "r2" ? 2 : 3, compact.header, Data(compact.payload), compact.signature,
                        ])
                }
                for problem in kept.reversed() {  // v2 read them by rule id, whatever the order they came in
                    try db.execute(
                        sql: "INSERT INTO problems VALUES ('r3', ?, ?, ?, ?, ?, ?)",
                        arguments: [
                            problem.ruleID, problem.status, problem.severity, problem.titleJa, problem.titleEn,
                            problem.clauses.joined(separator: "\n"),
                        ])
                }
            }
        }
        let store = try SQLiteReportStore(path: path)
        #expect(try await store.report(id: "r3")?.problems == kept)
        #expect(try await store.fleet().first?.problems == kept)
        #expect(try await store.report(id: "r2")?.problems == [])
        let r2 = try await DatabaseQueue(path: path).read {
            try String.fetchOne($0, sql: "SELECT problems FROM reports WHERE report_id = 'r2'")
        }
        #expect(r2 == "[]")  // v2 kept problems, and r2 had none
        #expect(try await store.report(id: "r3")?.token == (try await store.report(id: "r2")?.token))
        let tables = try await DatabaseQueue(path: path).read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(!tables.contains("problems"))
    }

    /// A machine key enrolled straight into a store (no HTTP), with its key id.
    static func enrollDirectly(in store: SQLiteReportStore, scratch: ScratchTree, name: String) async throws -> (
        MachineKey, String
    ) {
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/" + name)
        let keyID = MachineKey.thumbprint(key.publicKey)
        let token = CollectorApplication.newToken()
        try await store.addEnrollmentToken(hash: CollectorApplication.tokenHash(token), now: 1)
        #expect(
            try await store.enroll(
                tokenHash: CollectorApplication.tokenHash(token),
                machine: EnrolledMachine(
                    keyID: keyID, publicKey: Base64URL.encode(key.publicKey.rawRepresentation), machineID: name,
                    hostname: "pc-" + name, dmiSerial: nil), now: 1
            ).isBound)
        return (key, keyID)
    }

    @Test("group commit: reports arriving together are each stored once, duplicates and replays answered one by one")
    func groupCommit() async throws {
        let scratch = try ScratchTree()
        let store = try SQLiteReportStore(path: scratch.path + "/collector.sqlite")
        var machines: [(MachineKey, String)] = []
        for index in 0..<5 {
            machines.append(try await Self.enrollDirectly(in: store, scratch: scratch, name: "m\(index)"))
        }
        let signed = try JWS.verify(try JWS.sign(Array(#"{"x":1}"#.utf8), with: machines[0].0))
        let compact = try #require(CompactToken(signed))
        func report(_ keyID: String, _ sequence: Int, id: String? = nil) -> StoredReport {
            StoredReport(
                reportID: id ?? "\(keyID)-\(sequence)", keyID: keyID, sequence: sequence, receivedAt: 2, startedAt: 1,
                hostname: "pc",
                policyID: "p", verdict: "compliant", signed: compact, problems: [], signingKeyID: keyID)
        }
        let outcomes = try await withThrowingTaskGroup(of: [StoreOutcome].self) { group in
            for (_, keyID) in machines {
                group.addTask {
                    var outcomes: [StoreOutcome] = []
                    for sequence in 1...10 { outcomes.append(try await store.store(report(keyID, sequence))) }
                    outcomes.append(try await store.store(report(keyID, 10)))  // the same report again
                    outcomes.append(try await store.store(report(keyID, 4, id: keyID + "-replay")))
                    return outcomes
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 5)
        for machine in outcomes { #expect(machine == Array(repeating: .stored, count: 10) + [.duplicate, .replayed]) }
        for (_, keyID) in machines { #expect(try await store.reports(keyID: keyID).map(\.sequence) == Array(1...10)) }
    }

    @Test("every answer waits for a WAL sync that began after its commit (SQLite itself no longer syncs)")
    func walSyncBeforeAnswer() async throws {
        let scratch = try ScratchTree()
        let path = scratch.path + "/collector.sqlite"
        let store = try SQLiteReportStore(path: path)
        let (key, keyID) = try await Self.enrollDirectly(in: store, scratch: scratch, name: "m")
        let compact = try #require(CompactToken(try JWS.verify(try JWS.sign(Array(#"{"x":1}"#.utf8), with: key))))
        // Stored, duplicate and replayed alike: a duplicate's first copy may not be synced yet.
        for (sequence, id) in [(1, "r1"), (2, "r2"), (2, "r2"), (1, "r0")] {
            let before = store.walSync.completed
            _ = try await store.store(
                StoredReport(
                    reportID: id, keyID: keyID, sequence: sequence, receivedAt: 2, startedAt: 1, hostname: "pc",
                    policyID: "p", verdict: "compliant", signed: compact, problems: [], signingKeyID: keyID))
            #expect(store.walSync.completed >= before + 1, "answered without a sync that followed the commit")
        }
        // The WAL it syncs is the database's own.
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        let queue = try DatabaseQueue(path: path)
        #expect(try await queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test("token and admin-token print a token once and keep only its hash")
    func tokenCommands() async throws {
        let scratch = try ScratchTree()
        let database = scratch.path + "/collector.sqlite"
        let admin = try await runDetached([LoopbackCollector.binary, "admin-token", "--database", database])
        let enrollment = try await runDetached([LoopbackCollector.binary, "token", "--database", database])
        let adminToken = admin.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(admin.status == 0 && enrollment.status == 0 && adminToken.count == 46 && adminToken.hasPrefix("tk_"))
        // Never taken for an option by `tenken enroll --token`: one base64url token in 64 began with "-".
        #expect((0..<2_000).allSatisfy { _ in !CollectorApplication.newToken().hasPrefix("-") })
        let store = try SQLiteReportStore(path: database)
        #expect(try await store.isAdminToken(hash: CollectorApplication.tokenHash(adminToken)))
        #expect(
            !(try await store.isAdminToken(
                hash: CollectorApplication.tokenHash(
                    enrollment.output.trimmingCharacters(in: .whitespacesAndNewlines))))
        )
        #expect(!String(decoding: try scratch.read("collector.sqlite"), as: UTF8.self).contains(adminToken))
    }

    @Test(
        """
        tokens expire and can be listed and revoked; a removed machine's reports are refused at once by the \
        running collector; --valid-days and --policy-digest are checked
        """
    )
    func administration() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let tool = [LoopbackCollector.binary]
        let database = ["--database", collector.database]
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        func enroll(_ token: String) async throws -> Int {
            try await Self.enroll(curl, token: token, key: key).status
        }
        // Expired a minute ago: refused.
        let expired = CollectorApplication.newToken()
        let now = Timestamp.seconds()
        try await collector.store.addEnrollmentToken(
            hash: CollectorApplication.tokenHash(expired), now: now - 8 * 86_400, policyDigest: nil, expiresAt: now - 60
        )
        #expect(try await enroll(expired) == 403)
        // Issued by the command, listed by id (never the token), revoked: refused.
        let issued = try await runDetached(tool + ["token", "--valid-days", "2"] + database)
        let token = issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(issued.status == 0 && token.hasPrefix("tk_"))
        let id = String(CollectorApplication.tokenHash(token).prefix(12))
        let listed = try await runDetached(tool + ["tokens", "list"] + database, environment: ["LANG": "C"])
        #expect(listed.status == 0 && !listed.output.contains(token), "\(listed.output)")
        let line = try #require(listed.output.split(separator: "\n").first { $0.hasPrefix(id) })
        #expect(line.contains("unused") && line.contains(" JST") && line.contains("default policy"), "\(line)")
        #expect(listed.output.contains("expired"))
        #expect(try await runDetached(tool + ["tokens", "revoke", id] + database).status == 0)
        #expect(try await runDetached(tool + ["tokens", "revoke", id] + database).status != 0)  // only unused ones
        #expect(try await runDetached(tool + ["tokens", "revoke", "%"] + database).status != 0)  // never a pattern
        #expect(try await enroll(token) == 403)
        #expect(
            try await runDetached(tool + ["tokens", "list"] + database, environment: ["LANG": "C"]).output.contains(
                id + "\t"))
        // Bad options are refused before anything is written.
        #expect(try await runDetached(tool + ["token", "--valid-days", "0"] + database).status != 0)
        #expect(try await runDetached(tool + ["token", "--policy-digest", "md5:00"] + database).status != 0)
        // Enrolled, reporting, then removed while the server runs (its key remembered): refused at once.
        #expect(try await enroll(try await collector.enrollmentToken()) == 201)
        let signer = Signer(scratch: scratch, key: key)
        #expect(try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 1).0).status == 201)
        let keyID = MachineKey.thumbprint(key.publicKey)
        let machines = try await runDetached(tool + ["machines", "list"] + database)
        #expect(machines.status == 0 && machines.output.hasPrefix(keyID + "\tpc\t"), "\(machines.output)")
        let removed = try await runDetached(tool + ["machines", "remove", keyID] + database)
        #expect(removed.status == 0, "\(removed.output) \(removed.error)")
        #expect(try await runDetached(tool + ["machines", "remove", keyID] + database).status != 0)
        // Key ids are base64url and may begin with "-": taken as an id, not an option.
        let dashed = try await runDetached(
            tool + ["machines", "remove", "-notakey"] + database, environment: ["LANG": "C"])
        #expect(dashed.status != 0 && dashed.error.contains("no enrolled machine -notakey"), "\(dashed.error)")
        let refused = try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 2).0)
        // 409, set aside by the agent: a 403 it would retry for ever.
        #expect(refused.status == 409 && refused.body.contains("removed"), "\(refused.body)")
        #expect(try await collector.store.fleet().isEmpty)
        #expect(try await collector.store.reports(keyID: keyID).count == 1)  // kept for the record
        #expect(try await runDetached(tool + ["machines", "list"] + database).output.isEmpty)
    }

    @Test("CSV cells: quoting, and no formulas for a spreadsheet to run")
    func csvCells() {
        #expect(CSVTable.cell("plain") == "plain")
        #expect(CSVTable.cell("a,b") == "\"a,b\"")
        #expect(CSVTable.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVTable.cell("=1+1") == "'=1+1")
        #expect(CSVTable.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVTable.cell("-2") == "'-2")
        #expect(CSVTable.cell("line\nbreak") == "\"line\nbreak\"")
        #expect(CSVTable(header: ["a", "b"]).text == "\u{FEFF}a,b\r\n")
    }
}
