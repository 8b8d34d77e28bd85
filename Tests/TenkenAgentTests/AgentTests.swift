import CProcessMemory
import Foundation
import Synchronization
import TenkenTestSupport
import Testing

@testable import TenkenAgent
@testable import TenkenBase
@testable import TenkenCollector
@testable import TenkenScan

/// `tenken enroll` and `tenken agent` against the real collector on loopback: delivery in
/// order, retries while the collector is away, nothing lost or doubled across kill -9.
@Suite("agent delivery", .serialized, Needs.curl)
struct AgentTests {
    static let rules = "no-p2p-software"
    /// For tests of delivering hundreds of spooled reports at once: no per-machine rate in the way
    /// (a month's spool at 30 a minute takes minutes; `retryAfterHonoured` tests the limit).
    static let unlimited = ["--reports-per-minute", "100000"]

    /// `tenken agent` running in the background, its log in a file.
    final class AgentProcess {
        let process = Process()
        let logFile: String

        init(state: String, extra: [String] = [], environment: [String: String] = [:]) throws {
            logFile = state + "-agent.log"
            FileManager.default.createFile(atPath: logFile, contents: nil)
            process.executableURL = URL(filePath: Programs.tenken)
            process.arguments =
                [
                    "agent", "--root", Fixture.path("workstation"), "--rules", AgentTests.rules, "--state-dir", state,
                    "--interval", "1h", "--retry-first", "0.05", "--retry-limit", "0.3", "--lang", "en",
                ] + extra
            process.environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"].merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(filePath: logFile))
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

        func terminate() -> Int32 {
            process.terminate()  // SIGTERM, as systemd stops it
            process.waitUntilExit()
            return process.terminationStatus
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func tenken(_ arguments: [String]) async throws -> CommandResult {
        try await runDetached([Programs.tenken] + arguments, environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
    }

    func enroll(_ collector: LoopbackCollector, state: String) async throws {
        let result = try await tenken([
            "enroll", collector.base, "--token", try await collector.enrollmentToken(),
            "--ca", collector.files.caCertificate, "--state-dir", state, "--root", Fixture.path("workstation"),
        ])
        #expect(result.status == 0, "\(result.error)")
    }

    /// Signed reports straight into the spool, as `tenken check --sign --spool` makes them.
    func spool(_ count: Int, state: String) throws {
        let policy = try PolicyLoader.loadDefault().selecting([Self.rules]).get()
        let report = Check.run(root: try Fixture.root("workstation"), policy: policy)
        for _ in 0..<count {
            var copy = report
            copy.reportID = UUID().uuidString.lowercased()
            _ = try ReportSigner.sign(copy, stateDirectory: state, spool: true)
        }
    }

    func spoolCount(_ state: String) -> Int {
        Spool(stateDirectory: state).pending().entries.count
    }

    @Test("enroll pins the collector's CA; agent --once checks, signs and delivers; refusals are set aside, not lost")
    func enrollAndSend() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let state = scratch.path + "/state"

        // Another CA's certificate does not vouch for this collector; http:// is not accepted.
        try CertificateAuthority.create(in: .init(directory: scratch.path + "/other"), hosts: ["127.0.0.1"])
        let token = try await collector.enrollmentToken()
        let wrongCA = try await tenken([
            "enroll", collector.base, "--token", token, "--ca", scratch.path + "/other/ca.pem", "--state-dir", state,
        ])
        #expect(wrongCA.status == 2 && wrongCA.error.contains("cannot enroll"), "\(wrongCA.error)")
        let plainHTTP = try await tenken([
            "enroll", "http://127.0.0.1:\(collector.port)", "--token", token, "--state-dir", state,
        ])
        #expect(plainHTTP.error.contains("https://"), "\(plainHTTP.error)")
        let badToken = try await tenken([
            "enroll", collector.base, "--token", "guess", "--ca", collector.files.caCertificate, "--state-dir", state,
        ])
        #expect(badToken.status == 2 && badToken.error.contains("HTTP 403"))
        #expect(!FileManager.default.fileExists(atPath: state + "/collector.json"))

        // The token from standard input, so it never shows in the process list.
        let enrolled = try await runDetached(
            [
                Programs.tenken, "enroll", collector.base + "/", "--token", "-", "--ca", collector.files.caCertificate,
                "--state-dir", state, "--root", Fixture.path("workstation"),
            ],
            environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], input: token + "\n")
        #expect(enrolled.status == 0, "\(enrolled.error)")
        let link = try CollectorLink.load(stateDirectory: state)
        #expect(link.url == collector.base && link.pinnedCA)
        var info = stat()
        #expect(stat(state + "/collector.json", &info) == 0 && info.st_mode & 0o777 == 0o600)
        let machine = try #require(try await collector.store.machine(keyID: link.keyId))
        #expect(machine.hostname == "kensa-pc01" && machine.machineID.count == 32)

        let once = try await tenken([
            "agent", "--once", "--root", Fixture.path("workstation"), "--rules", Self.rules, "--state-dir", state,
            "--lang", "en",
        ])
        #expect(once.status == 0, "\(once.error)")
        #expect(once.error.contains("checked: non-compliant") && once.error.contains("sent 1 report(s)"))
        var stored = try await collector.store.reports(keyID: link.keyId)
        #expect(stored.map(\.sequence) == [1] && stored[0].problems.map(\.ruleID) == [Self.rules])
        #expect(spoolCount(state) == 0)

        // A report the collector can never take (its sequence is behind) is moved aside with the
        // reason, and the reports behind it still go.
        let key = try MachineKey.loadOrCreate(stateDirectory: state)
        var stale = Check.run(
            root: try Fixture.root("workstation"), policy: try PolicyLoader.loadDefault().selecting([Self.rules]).get())
        stale.sequence = 1
        _ = try Spool(stateDirectory: state).enqueue(
            try JWS.sign(Array(try stale.json()), with: key), sequence: 1, reportID: stale.reportID)
        try spool(2, state: state)
        let sendOnly = try await tenken(["agent", "--once", "--send-only", "--state-dir", state, "--lang", "ja"])
        #expect(sendOnly.status == 0, "\(sendOnly.error)")
        #expect(sendOnly.error.contains("収集サーバーが報告を受け付けませんでした (HTTP 409"))
        stored = try await collector.store.reports(keyID: link.keyId)
        #expect(stored.map(\.sequence) == [1, 2, 3])
        let reason = try String(
            contentsOfFile: state + "/spool/rejected/000000000001-\(stale.reportID).jws.reason", encoding: .utf8)
        #expect(reason.contains("HTTP 409") && reason.contains("replay"))

        // Collector gone: --once keeps the report and says so with exit 2.
        await collector.stop()
        let offline = try await tenken([
            "agent", "--once", "--root", Fixture.path("workstation"), "--rules", Self.rules, "--state-dir", state,
            "--lang", "ja",
        ])
        #expect(
            offline.status == 2 && offline.error.contains("点検しました: 不適合") && offline.error.contains("残りは spool に保持します"))
        #expect(spoolCount(state) == 1)
    }

    @Test(
        """
        rotate-key: spooled reports of the old key still go, then the new key signs; a reinstalled machine given \
        a token for it goes on above its stored reports
        """
    )
    func rotateKey() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        defer { Task { await collector.stop() } }
        let state = scratch.path + "/state"
        try await enroll(collector, state: state)
        let machine = try CollectorLink.load(stateDirectory: state).keyId
        let oldKey = try MachineKey.loadOrCreate(stateDirectory: state)
        try spool(2, state: state)  // signed with the old key, not sent yet

        let rotated = try await tenken(["rotate-key", "--state-dir", state, "--lang", "en"])
        #expect(rotated.status == 0 && rotated.output.hasPrefix("key rotated: "), "\(rotated.error)")
        let newKey = try MachineKey.loadOrCreate(stateDirectory: state)
        let newID = MachineKey.thumbprint(newKey.publicKey)
        #expect(try newID != machine && CollectorLink.load(stateDirectory: state).keyId == newID)
        #expect(!FileManager.default.fileExists(atPath: state + "/" + MachineKey.fileName + ".next"))
        var info = stat()
        #expect(stat(state + "/" + MachineKey.fileName, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let once = try await tenken([
            "agent", "--once", "--root", Fixture.path("workstation"), "--rules", Self.rules, "--state-dir", state,
            "--lang", "en",
        ])
        #expect(once.status == 0 && once.error.contains("sent 3 report(s)"), "\(once.error)")
        let stored = try await collector.store.reports(keyID: machine)
        #expect(stored.map(\.sequence) == [1, 2, 3])
        #expect(try stored.map { try JWS.verify($0.token).keyID } == [machine, machine, newID])
        // The old key is retired: a report it signs now is refused, though the collector remembers the key.
        let old = try StateDirectory(scratch.path + "/old")
        try oldKey.save(in: old)
        try SequenceCounter.raise(stateDirectory: old.path, above: 10)
        let late = try ReportSigner.sign(
            Check.run(
                root: try Fixture.root("workstation"),
                policy: try PolicyLoader.loadDefault().selecting([Self.rules]).get()),
            stateDirectory: old.path, spool: false)
        try late.token.write(toFile: scratch.path + "/late.jws", atomically: true, encoding: .utf8)
        let refused = try await Curl(ca: collector.files.caCertificate, base: collector.base).post(
            "/api/v1/reports", file: scratch.path + "/late.jws")
        #expect(refused.status == 409, "\(refused.body)")
        #expect(try await collector.store.signingKey(keyID: machine)?.retired == true)
        #expect(try await collector.store.signingKey(keyID: newID)?.machine.keyID == machine)

        // Reinstalled: the state directory is gone. A token issued for the machine gives it a
        // third key, and its numbering goes on after the stored reports.
        try FileManager.default.removeItem(atPath: state)
        let issued = try await runDetached([
            LoopbackCollector.binary, "token", "--machine", machine, "--database", collector.database,
        ])
        #expect(issued.status == 0, "\(issued.error)")
        let token = issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let reenrolled = try await tenken([
            "enroll", collector.base, "--token", token, "--ca", collector.files.caCertificate, "--state-dir", state,
            "--root", Fixture.path("workstation"),
        ])
        #expect(reenrolled.status == 0, "\(reenrolled.error)")
        let again = try await tenken([
            "agent", "--once", "--root", Fixture.path("workstation"), "--rules", Self.rules, "--state-dir", state,
            "--lang", "en",
        ])
        #expect(again.status == 0 && again.error.contains("sent 1 report(s)"), "\(again.error)")
        #expect(try await collector.store.reports(keyID: machine).map(\.sequence) == [1, 2, 3, 4])
        #expect(try await collector.store.fleet().count == 1)
    }

    @Test("collector down while 50 reports are made, then up: all stored exactly once, in order")
    func collectorDownThenUp() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector", options: Self.unlimited)
        let state = scratch.path + "/state"
        try await enroll(collector, state: state)
        await collector.stop()  // it comes back on the same port

        let agent = try AgentProcess(state: state)
        #expect(await waitUntil(seconds: 30) { agent.log.contains("cannot reach the collector") })
        try spool(50, state: state)
        #expect(spoolCount(state) == 51)  // the agent's own first check and the 50
        try await Task.sleep(for: .milliseconds(500))  // several retries fail meanwhile

        try await collector.start()
        #expect(await waitUntil { spoolCount(state) == 0 })
        #expect(try storedSequences(database: collector.database) == Array(1...51))
        #expect(agent.terminate() == 0)
        await collector.stop()
    }

    @Test(
        """
        a collector's limit is waited out: 429 with Retry-After ends a drain, and the service sends nothing \
        before then however short its backoff
        """)
    func retryAfterHonoured() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(
            directory: scratch.path + "/collector", options: ["--reports-per-minute", "2"])
        defer { Task { await collector.stop() } }
        let state = scratch.path + "/state"
        try await enroll(collector, state: state)
        try spool(3, state: state)
        let client = try CollectorClient(baseURL: collector.base, caFile: collector.files.caCertificate)
        let sender = SpoolSender(
            spool: Spool(stateDirectory: state), client: client,
            log: AgentLog(
                language: .en, environment: [:]))
        let drained = await sender.drain()
        await client.shutdown()
        guard case .retryLater(let sent, let reason, let after) = drained else {
            Issue.record("\(drained)")
            return
        }
        #expect(sent == 2 && reason.contains("HTTP 429"), "\(reason)")
        let wait = try #require(after)
        #expect(wait > .zero && wait <= .seconds(60))
        // The service, retrying every 0.05 to 0.3 s otherwise, asks once in the window and waits.
        let admin = try await collector.adminToken()
        let curl = Curl(ca: collector.files.caCertificate, base: collector.base)
        func limited() async throws -> Int {
            let metrics = try await curl.get("/metrics", token: admin).body
            let line = metrics.split(separator: "\n").first {
                $0.hasPrefix("tenken_reports_received_total{outcome=\"rate_limited\"}")
            }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
        }
        let agent = try AgentProcess(state: state)
        try await Task.sleep(for: .seconds(3))
        // One more 429 for the service's first try (two, should the minute turn meanwhile); a
        // sender that ignored Retry-After would have tried about twenty times.
        #expect(try await limited() <= 3, "the agent retried before the collector's Retry-After")
        #expect(spoolCount(state) > 0)
        _ = agent.terminate()
    }

    @Test("kill -9 of the agent during delivery loses nothing and doubles nothing")
    func agentKilled() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector", options: Self.unlimited)
        defer { Task { await collector.stop() } }
        let state = scratch.path + "/state"
        try await enroll(collector, state: state)
        try spool(300, state: state)

        let agent = try AgentProcess(state: state)
        #expect(try await waitUntil { try storedSequences(database: collector.database).count >= 20 })
        agent.kill9()
        let atKill = try storedSequences(database: collector.database).count
        #expect(atKill < 301, "the agent was killed mid-delivery")

        let resumed = try await tenken(["agent", "--once", "--send-only", "--state-dir", state])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(try storedSequences(database: collector.database) == Array(1...301))
        #expect(spoolCount(state) == 0)
    }

    @Test("kill -9 of the collector during delivery loses nothing and doubles nothing")
    func collectorKilled() async throws {
        let scratch = try ScratchTree()
        let collector = try await LoopbackCollector(directory: scratch.path + "/collector", options: Self.unlimited)
        let state = scratch.path + "/state"
        try await enroll(collector, state: state)
        await collector.stop()
        try spool(300, state: state)

        try await collector.start()
        let agent = try AgentProcess(state: state)
        #expect(try await waitUntil { try storedSequences(database: collector.database).count >= 20 })
        collector.kill9()
        let atKill = try storedSequences(database: collector.database).count
        #expect(atKill < 301, "the collector was killed mid-delivery")
        try await Task.sleep(for: .milliseconds(300))  // the agent fails and backs off

        try await collector.start()
        #expect(await waitUntil { spoolCount(state) == 0 })
        #expect(try storedSequences(database: collector.database) == Array(1...301))
        #expect(agent.terminate() == 0)
        await collector.stop()
    }

    @Test("the service tells systemd it is ready and stopping (sd_notify on a real socket)")
    func serviceNotifications() async throws {
        let scratch = try ScratchTree()
        let socketPath = scratch.path + "/notify"
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in socketPath.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(socket, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        }

        let agent = try AgentProcess(
            state: scratch.path + "/state", environment: ["NOTIFY_SOCKET": socketPath, "JOURNAL_STREAM": "8:1"])
        let ready = receive()
        #expect(ready.hasPrefix("READY=1\nSTATUS=watching"))
        var messages: [String] = []
        #expect(
            await waitUntil(seconds: 30) {
                messages.append(receive())
                return messages.contains { $0.hasPrefix("STATUS=last check: non-compliant") }
            })
        #expect(agent.terminate() == 0)
        #expect(receive() == "STOPPING=1")
        // Under systemd, log lines carry their priority for the journal; not enrolled is a warning.
        #expect(agent.log.contains("<6>checked: non-compliant") && agent.log.contains("<4>cannot reach the collector"))
    }

    @Test("a USB device plugged in, and a package change, each bring a new check")
    func triggers() async throws {
        let scratch = try Fixture.copy("workstation")
        let state = scratch.path + "/var/lib/tenken"
        var configuration = Agent.Configuration()
        configuration.root = scratch.path
        configuration.stateDirectory = state
        configuration.rules = [Self.rules]
        configuration.settle = .milliseconds(100)
        configuration.backoff = Backoff(first: .seconds(30), limit: .seconds(30))
        let agent = Agent(
            configuration: configuration, log: AgentLog(language: .en, environment: [:]),
            deviceEvents: RecordedDeviceEvents(recording: DeviceMonitorTests.recording))
        let service = Task { await agent.run() }
        defer { service.cancel() }
        #expect(await waitUntil(seconds: 30) { spoolCount(state) >= 1 })
        // dpkg replaces its status file by renaming a new one into place.
        let status = try scratch.read("var/lib/dpkg/status")
        try scratch.write("var/lib/dpkg/status-new", status)
        rename(scratch.path + "/var/lib/dpkg/status-new", scratch.path + "/var/lib/dpkg/status")
        let afterChange = spoolCount(state) + 1
        #expect(await waitUntil(seconds: 30) { spoolCount(state) >= afterChange })
        // The write and the rename are several inotify events: one check covers them all.
        try await Task.sleep(for: .milliseconds(600))
        #expect(spoolCount(state) == afterChange)
        service.cancel()
        await service.value
        let sequences = Spool(stateDirectory: state).pending().entries.map(\.sequence)
        #expect(sequences == Array(1...sequences.count))
    }

    @Test("inotify watcher: a rename into a watched directory is seen; missing directories are skipped")
    func changeWatcher() async throws {
        let scratch = try ScratchTree()
        try scratch.write("var/lib/dpkg/status", "")
        let watcher = ChangeWatcher(root: scratch.path, directories: ["/var/lib/dpkg", "/no/such/dir"])
        #expect(watcher.watched == ["/var/lib/dpkg"])
        let seen = Atomic<Int>(0)
        watcher.start { seen.add(1, ordering: .relaxed) }
        try scratch.write("var/lib/dpkg/status-new", "Package: x\n")
        rename(scratch.path + "/var/lib/dpkg/status-new", scratch.path + "/var/lib/dpkg/status")
        #expect(await waitUntil(seconds: 10) { seen.load(ordering: .relaxed) > 0 })
        watcher.stop()
    }

    @Test(
        """
        a report dated ahead is set aside only once this clock agrees it was made under a wrong clock; \
        a busy spool is retried
        """
    )
    func clockAndLock() async throws {
        let scratch = try ScratchTree()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path)
        let spool = Spool(stateDirectory: scratch.path)
        for (sequence, started) in [(1, Timestamp.seconds() + 86400), (2, Timestamp.seconds())] {
            let payload = #"{"startedAt":"\#(Timestamp.format(seconds: started))"}"#
            _ = try spool.enqueue(
                try JWS.sign(Array(payload.utf8), with: key), sequence: sequence, reportID: "r\(sequence)")
        }
        let entries = spool.pending().entries
        #expect(SpoolSender.madeUnderAClockSinceCorrected(entries[0]))
        #expect(!SpoolSender.madeUnderAClockSinceCorrected(entries[1]))

        let client = try CollectorClient(baseURL: "https://127.0.0.1:9", caFile: nil)
        let sender = SpoolSender(spool: spool, client: client, log: AgentLog(language: .en, environment: [:]))
        let held = await spool.whileSending { await sender.drain() }
        #expect(held == .retryLater(sent: 0, reason: "another tenken agent is sending this spool"))
        await client.shutdown()
    }

    @Test("between checks the agent gives back its code's pages and its heap's free pages")
    func idleMemoryReleased() throws {
        func residentFileKiB() throws -> Int {
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
            return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        }
        // A freed buffer larger than a page, which malloc_trim gives back.
        var scratch = [UInt8](repeating: 1, count: 8 << 20)
        scratch[0] = 2
        scratch = []
        let before = try residentFileKiB()
        let paged = tenken_release_idle_memory()
        let after = try residentFileKiB()
        #expect(paged > 0)
        // The test binary's code was resident; most of it is no longer (other tests fault some back).
        #expect(after < before - 1024, "RssFile \(before) kB → \(after) kB")
    }

    @Test("backoff doubles with jitter up to its limit and starts over after a success")
    func backoff() {
        var backoff = Backoff(first: .seconds(2), limit: .seconds(20))
        let waits = (0..<6).map { _ in backoff.next() }
        #expect(waits[0] >= .seconds(1) && waits[0] <= .seconds(2))
        #expect(waits[3] >= .seconds(8) && waits[3] <= .seconds(16))
        #expect(waits[5] >= .seconds(10) && waits[5] <= .seconds(20))
        backoff.reset()
        #expect(backoff.next() <= .seconds(2))
        #expect(Interval(text: "6h")?.duration == .seconds(21600))
        #expect(Interval(text: "0.05")?.duration == .milliseconds(50))
        #expect(Interval(text: "-1") == nil && Interval(text: "soon") == nil)
    }
}
