import FoundationEssentials
import TenkenAgent
import TenkenBase
import TenkenCollector
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// Signed reports per second into a real `tenken-collector serve` (release build, its own
/// process, HTTPS on loopback, SQLite), sent by `machines` enrolled machines at once, each in
/// sequence order over its own connection, as agents do. Every report is this machine's real
/// report of the whole default policy, renumbered and signed again per machine, compressed as
/// agents send it (`plain`: the JSON itself, as `tenken check --sign` makes it).
func benchmarkIngest(collector: String, machines: Int, reports: Int, plain: Bool, root: HostRoot) async {
    let directory = "/tmp/tenken-bench-ingest-\(getpid())"
    defer { _ = spawn(["rm", "-rf", directory]) }
    guard spawn([collector, "init", "--dir", directory + "/tls", "--host", "127.0.0.1"]) == 0,
        let store = try? SQLiteReportStore(path: directory + "/collector.sqlite")
    else {
        print("cannot set up a collector with \(collector)")
        return
    }
    var tokens: [String] = []
    for _ in 0..<machines {
        let token = CollectorApplication.newToken()
        try? await store.addEnrollmentToken(hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds())
        tokens.append(token)
    }
    let port = 18_000 + Int(getpid() % 1000)
    guard
        let server = spawnBackground([
            collector, "serve", "--dir", directory + "/tls", "--database", directory + "/collector.sqlite",
            // A fleet's day at full speed: each machine sends far past what the agent would.
            "--listen", "127.0.0.1", "--port", String(port), "--reports-per-minute", "100000",
            "--megabytes-per-day", "100000",
        ])
    else {
        print("cannot start \(collector)")
        return
    }
    defer {
        kill(server, SIGTERM)
        var status: Int32 = 0
        waitpid(server, &status, 0)
    }
    let client: CollectorClient
    do {
        client = try CollectorClient(
            baseURL: "https://127.0.0.1:\(port)", caFile: directory + "/tls/ca.pem", connections: machines)
    } catch {
        print(error)
        return
    }

    guard let policy = try? PolicyLoader.loadDefault() else {
        await client.shutdown()
        return
    }
    let template = Check.run(root: root, policy: policy)
    // Machines enroll over HTTPS as `tenken enroll` does; the collector may still be starting.
    // Each has a machine-id of its own, which its reports carry: the collector takes a report
    // only with its key's enrolled machine-id, and enrolls one machine-id once.
    func host(_ index: Int) -> CheckReport.Host {
        let hex = String(index + 1, radix: 16)
        return CheckReport.Host(
            hostname: "bench-\(index)", machineID: String(repeating: "0", count: 32 - hex.count) + hex,
            dmiSerial: template.host.dmiSerial, os: template.host.os)
    }
    var keys: [MachineKey] = []
    for (index, token) in tokens.enumerated() {
        let key = MachineKey(privateKey: .init())
        var identity = HostIdentity()
        identity.hostname = host(index).hostname
        identity.machineID = host(index).machineID
        identity.dmiSerial = template.host.dmiSerial
        for attempt in 0..<100 {
            do {
                _ = try await client.enroll(token: token, key: key, identity: identity)
                break
            } catch {
                if attempt == 99 {
                    print("enrollment failed: \(error)")
                    await client.shutdown()
                    return
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        keys.append(key)
    }

    let perMachine = reports / machines
    print(
        "  \(machines) machines × \(perMachine) reports, "
            + "each \(Array((try? template.json(pretty: false)) ?? Data()).count / 1024) KB of JSON, "
            + (plain ? "signed as it is" : "signed compressed as agents send it") + "; signing...")
    var tokensByMachine: [[(String, String)]] = []
    for (index, key) in keys.enumerated() {
        var signed: [(String, String)] = []
        for sequence in 1...(perMachine + 5) {
            var report = template
            report.host = host(index)
            report.reportID = UUID().uuidString.lowercased()
            report.sequence = sequence
            let json = Array(try! report.json(pretty: false))  // as ReportSigner signs
            signed.append((try! ReportPayload.sign(json, with: key, compressed: !plain), report.reportID))
        }
        tokensByMachine.append(signed)
    }

    // The same verification and storage without HTTP, one at a time, into a store of its own:
    // what a report costs the collector before the network stack.
    if let local = try? SQLiteReportStore(path: directory + "/in-process.sqlite") {
        let ingest = Ingest(store: local)
        let key = keys[0]
        let token = CollectorApplication.newToken()
        try? await local.addEnrollmentToken(hash: CollectorApplication.tokenHash(token), now: Timestamp.seconds())
        _ = try? await local.enroll(
            tokenHash: CollectorApplication.tokenHash(token),
            machine: EnrolledMachine(
                keyID: MachineKey.thumbprint(key.publicKey),
                publicKey: Base64URL.encode(key.publicKey.rawRepresentation),
                machineID: host(0).machineID, hostname: "in-process", dmiSerial: template.host.dmiSerial),
            now: Timestamp.seconds())
        let bodies = tokensByMachine[0].map { Array($0.0.utf8) }
        var phases = [String: Samples]()
        for body in bodies {
            guard let verified = try? JWS.verify(bytes: body[...]) else { continue }
            phases["verify", default: Samples()].add(measure { _ = try? JWS.verify(bytes: body[...]) })
            guard let json = try? ReportPayload.json(of: verified, limit: 1 << 20) else { continue }
            phases["decode", default: Samples()].add(measure { _ = try? IngestedReport(json: json) })
            phases["zstd", default: Samples()].add(
                measure {
                    _ =
                        plain
                        ? Zstd.compress(verified.payload, level: 1)
                        : try? ReportPayload.json(of: verified, limit: 1 << 20)
                })
        }
        print(
            "  size \(bodies[0].count / 1024) KB a request; phases (median): "
                + "verify \(format(phases["verify"]!.median)), decode \(format(phases["decode"]!.median)), "
                + (plain ? "zstd compress " : "zstd inflate ") + format(phases["zstd"]!.median))
        let clock = ContinuousClock()
        let start = clock.now
        for body in bodies { _ = try? await ingest.receive(body, now: Timestamp.seconds()) }
        let each = (clock.now - start) / bodies.count
        print(
            "  in-process, no HTTP: \(format(Double(each.components.attoseconds) / 1e15)) per report "
                + "(of which JWS verify \(format(phases["verify"]!.median)))"
        )
    }

    // Five reports per machine warm the connections; then the timed run.
    let latencies = await send(tokensByMachine.map { Array($0.prefix(5)) }, client: client)
    guard latencies.failures == 0 else {
        print("  warm-up: \(latencies.failures) reports not acknowledged")
        await client.shutdown()
        return
    }
    let collectorBefore = processCPUSeconds(server) ?? 0
    let generatorBefore = processCPUSeconds(getpid()) ?? 0
    let clock = ContinuousClock()
    let start = clock.now
    let timed = await send(tokensByMachine.map { Array($0.dropFirst(5)) }, client: client)
    let elapsed = clock.now - start
    // CPU each used meanwhile: the load generator shares the cores with the collector.
    let collectorCPU = (processCPUSeconds(server) ?? 0) - collectorBefore
    let generatorCPU = (processCPUSeconds(getpid()) ?? 0) - generatorBefore
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    var samples = Samples()
    for milliseconds in timed.milliseconds { samples.add(milliseconds) }
    await client.shutdown()
    let acknowledged = timed.milliseconds.count - timed.failures
    let stored = (try? await store.fleet().reduce(0) { $0 + $1.machine.lastSequence }) ?? -1
    let rate = Double(acknowledged) / seconds
    print(
        "  \(acknowledged) reports in \(format(seconds * 1000)): \(Int(rate)) reports/s   "
            + "goal ≥ 2,000/s: \(rate >= 2000 ? "met" : "NOT met")"
    )
    print(
        "  latency p50 \(format(samples.median))  p90 \(format(samples.percentile(0.9)))  "
            + "p99 \(format(samples.percentile(0.99)))  max \(format(samples.percentile(1)))   "
            + "goal p99 < 100 ms: \(samples.percentile(0.99) < 100 ? "met" : "NOT met")"
    )
    let count = Double(max(1, acknowledged))
    print(
        "  CPU per report: collector \(format(collectorCPU * 1000 / count)), "
            + "load generator \(format(generatorCPU * 1000 / count)); "
            + "cores busy: collector \(format1(collectorCPU / seconds)), "
            + "load generator \(format1(generatorCPU / seconds)) of \(sysconf(Int32(_SC_NPROCESSORS_ONLN)))")
    print(
        "  not acknowledged: \(timed.failures); "
            + "stored (sum of last sequences): \(stored) of \(machines * (perMachine + 5))"
    )
}

private func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

/// Sends each machine's reports in order, all machines at once; the time of each request.
private func send(_ machines: [[(String, String)]], client: CollectorClient) async -> (
    milliseconds: [Double], failures: Int
) {
    await withTaskGroup(of: ([Double], Int).self) { group in
        for reports in machines {
            group.addTask {
                var times: [Double] = []
                var failures = 0
                let clock = ContinuousClock()
                for (token, id) in reports {
                    let start = clock.now
                    let outcome = await client.submit(token, reportID: id)
                    let elapsed = clock.now - start
                    times.append(
                        Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                    if case .acknowledged = outcome {} else { failures += 1 }
                }
                return (times, failures)
            }
        }
        var all: [Double] = []
        var failures = 0
        for await (times, failed) in group {
            all += times
            failures += failed
        }
        return (all, failures)
    }
}
