import Foundation
import Synchronization
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector

/// The audit log as journald itself records it: a journald of the test's own (a journal
/// namespace), the collector and its commands sending to it, journalctl reading it back.
@Suite("collector audit log", Needs.curl, Needs.programs(JournaldNamespace.daemon, "/usr/bin/journalctl"))
struct AuditLogTests {
    @Test(
        """
        enrollments, refused enrollments and reports (with the reason), wrong admin tokens, and tokens issued, \
        revoked and machines removed are journal entries with structured fields, never with a token
        """
    )
    func auditedEvents() async throws {
        let journal = try JournaldNamespace()
        defer { journal.stop() }
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(
            directory: scratch.path + "/collector", options: ["--journal-socket", journal.socket])
        defer { Task { await collector.stop() } }
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        let tool = [LoopbackCollector.binary]
        let options = ["--database", collector.database, "--journal-socket", journal.socket]

        // Tokens issued by the commands are named by the start of their hash.
        let issued = try await runDetached(tool + ["token"] + options)
        let token = issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(issued.status == 0 && token.hasPrefix("tk_") && issued.error.isEmpty, "\(issued.error)")
        let tokenID = AuditEvent.tokenID(hash: CollectorApplication.tokenHash(token))
        let unused = try await runDetached(tool + ["token"] + options).output.trimmingCharacters(in: .newlines)
        let unusedID = AuditEvent.tokenID(hash: CollectorApplication.tokenHash(unused))
        #expect(try await runDetached(tool + ["tokens", "revoke", unusedID] + options).status == 0)
        let admin = try await runDetached(tool + ["admin-token"] + options).output.trimmingCharacters(in: .newlines)

        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/agent")
        let keyID = MachineKey.thumbprint(key.publicKey)
        #expect(try await CollectorTests.enroll(curl, token: token, key: key, hostname: "pc7").status == 201)
        #expect(try await CollectorTests.enroll(curl, token: token, key: key).status == 403)
        var signer = CollectorTests.Signer(scratch: scratch, key: key)
        signer.machineID = "0123456789abcdef0123456789abcdef"
        #expect(try await curl.post("/api/v1/reports", file: try signer.signed(sequence: 1).0).status == 400)
        try scratch.write("garbage.jws", "not.a.report")
        #expect(try await curl.post("/api/v1/reports", file: scratch.path + "/garbage.jws").status == 400)
        let wrongAdmin = CollectorApplication.newToken()
        #expect(try await curl.get("/api/v1/fleet", token: wrongAdmin).status == 401)
        #expect(try await curl.get("/api/v1/fleet").status == 401)  // no credentials: a browser's first request
        #expect(try await curl.get("/api/v1/fleet", token: admin).status == 200)
        #expect(try await runDetached(tool + ["machines", "remove", keyID] + options).status == 0)

        var entries: [[String: String]] = []
        var export = ""
        for _ in 0..<100 {
            (entries, export) = try await journal.entries(identifier: "tenken-collector")
            if entries.count >= 10 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let events = entries.map { $0["TENKEN_EVENT"] ?? "?" }
        #expect(
            events == [
                "token_issued", "token_issued", "token_revoked", "token_issued", "enrolled", "enrollment_refused",
                "report_refused", "report_refused", "admin_authentication_failed", "machine_removed",
            ], "\(events)")
        func entry(_ event: String, _ index: Int = 0) -> [String: String] {
            entries.filter { $0["TENKEN_EVENT"] == event }.dropFirst(index).first ?? [:]
        }
        #expect(entry("token_issued")["TENKEN_TOKEN_ID"] == tokenID)
        #expect(entry("token_issued")["TENKEN_TOKEN_KIND"] == "enrollment")
        #expect(entry("token_issued", 2)["TENKEN_TOKEN_KIND"] == "admin")
        #expect(entry("token_revoked")["TENKEN_TOKEN_ID"] == unusedID)
        let enrolled = entry("enrolled")
        #expect(enrolled["TENKEN_KEY_ID"] == keyID && enrolled["TENKEN_HOSTNAME"] == "pc7")
        #expect(enrolled["TENKEN_TOKEN_ID"] == tokenID && enrolled["TENKEN_MACHINE_ID"] == Fixture.workstationMachineID)
        #expect(enrolled["TENKEN_REMOTE"]?.hasPrefix("127.0.0.1 ") == true, "\(enrolled)")
        #expect(enrolled["PRIORITY"] == "5")
        #expect(entry("enrollment_refused")["TENKEN_REASON"] == "token")
        #expect(entry("enrollment_refused")["PRIORITY"] == "4")
        let otherMachine = entry("report_refused")
        #expect(otherMachine["TENKEN_REASON"] == "other_machine" && otherMachine["TENKEN_STATUS"] == "400")
        #expect(otherMachine["TENKEN_KEY_ID"] == keyID)
        #expect(otherMachine["TENKEN_DETAIL"]?.contains("machine-id") == true, "\(otherMachine)")
        #expect(entry("report_refused", 1)["TENKEN_REASON"] == "invalid")
        #expect(entry("report_refused", 1)["TENKEN_KEY_ID"] == "-")
        #expect(entry("admin_authentication_failed")["TENKEN_REASON"] == "unknown_token")
        #expect(entry("admin_authentication_failed")["TENKEN_PATH"] == "/api/v1/fleet")
        #expect(entry("machine_removed")["TENKEN_KEY_ID"] == keyID)
        // One MESSAGE_ID per kind of event, and a message for people.
        for kind in Set(events) {
            #expect(Set(entries.filter { $0["TENKEN_EVENT"] == kind }.map { $0["MESSAGE_ID"] }).count == 1)
        }
        #expect(entries.allSatisfy { ($0["MESSAGE"] ?? "").count > 10 && $0["MESSAGE_ID"]?.count == 32 })
        // No token, not even a wrong one, anywhere in the journal.
        for secret in [token, unused, admin, wrongAdmin] { #expect(!export.contains(secret)) }

        // Without a journal the event is a line of JSON on stderr.
        let unlogged = try await runDetached(
            tool + ["token", "--database", collector.database, "--journal-socket", scratch.path + "/no-journal"])
        #expect(unlogged.status == 0)
        #expect(unlogged.error.hasPrefix(#"tenken-collector audit: {"event":"token_issued""#), "\(unlogged.error)")
        #expect(!unlogged.error.contains(unlogged.output.trimmingCharacters(in: .newlines)))
    }

    @Test(
        """
        the audit log cannot be blinded: refusals from 4,096 addresses are bounded and summarized, a new kind of \
        refusal is still logged, and control characters never reach the journal or a terminal raw
        """
    )
    func cannotBeBlinded() async throws {
        let journal = try JournaldNamespace()
        defer { journal.stop() }
        let suppressed = Atomic<Int>(0)
        let dropped = Atomic<Int>(0)
        let log = AuditLog(socket: journal.socket, language: .en).counting(
            dropped: { dropped.add(1, ordering: .relaxed) }, throttle: AuditThrottle(),
            suppressed: { suppressed.add(1, ordering: .relaxed) })
        func refusal(_ kind: AuditEvent.Kind, _ reason: String, from address: String, detail: String = "x")
            -> AuditEvent
        {
            AuditEvent(
                kind, .warning, ja: "拒否: \(detail)", en: "refused: \(detail)",
                fields: [("TENKEN_REASON", reason), ("TENKEN_DETAIL", detail), ("TENKEN_REMOTE", address + " 40000")])
        }
        // A flood of bad tokens from 4,096 addresses, ten each.
        for round in 0..<10 {
            for host in 0..<4096 {
                log.record(refusal(.enrollmentRefused, "token", from: "10.\(host / 256).\(host % 256).\(round)"))
            }
        }
        // What was logged went to journald at once, never waiting: as many as its socket's
        // queue took (the rest counted as dropped). Given a moment to read them:
        let floodDropped = dropped.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(300))
        // Then one report of another machine's from an address never seen, and a hostile field.
        log.record(refusal(.reportRefused, "other_machine", from: "192.0.2.77"))
        let hostile = "pc\u{1b}[2J\u{1b}]0;owned\u{7}\nFAKE: ok\u{202e}txt.exe"
        log.record(refusal(.reportRefused, "invalid", from: "192.0.2.78", detail: hostile))
        log.flushSuppressed(now: Timestamp.seconds() + 61)
        #expect(dropped.load(ordering: .relaxed) == floodDropped)

        var entries: [[String: String]] = []
        for _ in 0..<100 {
            entries = try await journal.entries(identifier: "tenken-collector").entries
            if entries.contains(where: { $0["TENKEN_EVENT"] == "audit_suppressed" }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let flood = entries.filter { $0["TENKEN_REASON"] == "token" && $0["TENKEN_EVENT"] == "enrollment_refused" }
        #expect(flood.count + floodDropped == 120, "\(flood.count) entries of the flood, \(floodDropped) dropped")
        #expect(suppressed.load(ordering: .relaxed) == 40_960 - 120)
        #expect(
            entries.contains { $0["TENKEN_REASON"] == "other_machine" && $0["TENKEN_REMOTE"] == "192.0.2.77 40000" })
        let summary = try #require(entries.first { $0["TENKEN_EVENT"] == "audit_suppressed" })
        #expect(summary["TENKEN_SUPPRESSED"] == String(40_960 - 120) && summary["TENKEN_REASON"] == "token")
        #expect(summary["TENKEN_SUPPRESSED_EVENT"] == "enrollment_refused")
        #expect(Int(summary["TENKEN_ADDRESS_BUCKETS"] ?? "") ?? 0 > 200, "\(summary)")
        // Every field a string (journalctl shows no blob), escaped: no ESC, BEL, newline or RLO.
        let escaped = try #require(entries.first { $0["TENKEN_REASON"] == "invalid" })
        #expect(escaped["TENKEN_DETAIL"] == #"pc\x1b[2J\x1b]0;owned\x07\x0aFAKE: ok\u{202e}txt.exe"#, "\(escaped)")
        #expect(escaped["MESSAGE"]?.contains(#"\x1b[2J"#) == true)
        let raw = try await runDetached([
            "/usr/bin/journalctl", "--namespace", journal.name, "--no-pager", "-a", "-o", "cat",
        ])
        #expect(!raw.output.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{7}" || $0 == "\u{202e}" })
    }

    @Test("a journal that cannot keep up is never waited for: the events it has no room for are counted")
    func journalFull() throws {
        let scratch = try ScratchTree()
        let path = scratch.path + "/journal.socket"
        // A datagram socket nobody reads, as a journald that stopped reading.
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(socket) }
        let address = try #require(UnixSocketAddress(path))
        #expect(address.withSocketAddress { Glibc.bind(socket, $0, $1) } == 0)
        let dropped = Atomic<Int>(0)
        let log = AuditLog(socket: path, language: .en).counting { dropped.add(1, ordering: .relaxed) }
        let event = AuditEvent(
            .reportRefused, .warning, ja: "拒否", en: "refused",
            fields: [("TENKEN_DETAIL", String(repeating: "x", count: 2000))])
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<5000 { log.record(event) }
        #expect(clock.now - start < .seconds(2))
        #expect(dropped.load(ordering: .relaxed) > 0)
        #expect(dropped.load(ordering: .relaxed) < 5000)  // the first ones fit
    }
}
