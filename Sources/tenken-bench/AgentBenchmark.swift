import TenkenBase
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// The agent's periodic check of the software rules, in-process as the agent runs it, with its
/// caches warm (an earlier check ran in the same process), against `dpkg-query -W` as a command.
/// Each source's time is shown, so a regression points at its phase.
func benchmarkAgentCheck(root: HostRoot, rootPath: String, runs: Int, rules: [String]) {
    guard let policy = try? PolicyLoader.loadDefault().selecting(rules).get() else {
        print("cannot select \(rules) from the default policy")
        exit(2)
    }
    let statePath = "/tmp/tenken-bench-agent-\(getpid())"
    defer { _ = spawn(["rm", "-rf", statePath]) }
    guard let state = try? StateDirectory(statePath) else {
        print("cannot make the state directory \(statePath)")
        exit(2)
    }
    var request = policy.factRequest
    request.cacheDirectory = state
    let memory = CheckMemory()
    defer { memory.stop() }
    request.memory = memory
    if !memory.isJournaling { print("  (no change journal: fanotify needs CAP_SYS_ADMIN; every walk reads all)") }
    let peer = ["dpkg-query", "--admindir=" + (rootPath == "/" ? "" : rootPath) + "/var/lib/dpkg", "-W"]
    var phases: [String: Samples] = [:]
    var checks = Samples()
    var peerTimes = Samples()
    var facts = HostFacts()
    for run in 0..<(runs + 1) {
        request.now = Timestamp.seconds()
        var collected = HostFacts()
        var perSource: [String: Double] = [:]
        let total = measure {
            for source in FactSourceRegistry.all where source.isRequested(by: request) {
                perSource[source.name] = measure { source.collect(root, request, &collected) }
            }
            _ = Evaluator.evaluate(policy, facts: collected, now: request.now)
        }
        let peerTime = measure { _ = spawn(peer) }
        // The first check fills the caches; the agent's later checks are what is measured.
        guard run > 0 else { continue }
        checks.add(total)
        peerTimes.add(peerTime)
        for (name, time) in perSource { phases[name, default: Samples()].add(time) }
        facts = collected
    }
    print("Agent check of \(rules.joined(separator: ",")), caches warm, in-process (\(runs) runs):")
    for source in FactSourceRegistry.all where source.isRequested(by: request) {
        print("  collect \(source.name.padding(16)) \(format(phases[source.name]!.median))")
    }
    let walked = facts.walkCounts
    print(
        "  walk: \(walked.directoriesRead) directories read, \(walked.directoriesTaken) taken unchanged"
            + (walked.fullWalk.map { " (read all: \($0))" } ?? ""))
    let counts = facts.contentCounts
    print(
        "  \(facts.debianPackages.count) packages, \(counts.candidates) programs looked at "
            + "(\(counts.ownedUnchanged) owned and unchanged, \(counts.fromCache) from the cache, "
            + "\(counts.inspected) inspected)")
    print("  check (median)  \(format(checks.median))  p90 \(format(checks.percentile(0.9)))")
    print("  dpkg-query -W   \(format(peerTimes.median))  p90 \(format(peerTimes.percentile(0.9)))")
    let ratio = checks.median / peerTimes.median
    print("  ratio: \((ratio * 100).rounded() / 100)×   goal ≤ 2×: \(ratio <= 2 ? "met" : "NOT met")")
}
