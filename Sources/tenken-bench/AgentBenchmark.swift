import CProcessMemory
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
    // Whole checks as the agent runs them (the package databases on a thread of their own),
    // alternated with the peer; the first fills the memory and the caches.
    for run in 0..<(runs + 1) {
        request.now = Timestamp.seconds()
        let total = measure {
            facts = HostFacts.collect(from: root, request: request)
            _ = Evaluator.evaluate(policy, facts: facts, now: request.now)
        }
        let peerTime = measure { _ = spawn(peer) }
        guard run > 0 else { continue }
        checks.add(total)
        peerTimes.add(peerTime)
    }
    // Then each source's share, one after another.
    for _ in 0..<runs {
        request.now = Timestamp.seconds()
        var collected = HostFacts()
        for source in FactSourceRegistry.all where source.isRequested(by: request) {
            phases[source.name, default: Samples()].add(measure { source.collect(root, request, &collected) })
        }
    }
    print("Agent check of \(rules.joined(separator: ",")), memory and caches warm, in-process (\(runs) runs):")
    print("  each source alone (median):")
    for source in FactSourceRegistry.all where source.isRequested(by: request) {
        print("    \(source.name.padding(16)) \(format(phases[source.name]!.median))")
    }
    // What the agent holds between checks: the heap still in use once this check's facts are gone.
    let walked = facts.walkCounts
    let counts = facts.contentCounts
    let packageCount = facts.debianPackages.count
    facts = HostFacts()
    _ = tenken_release_idle_memory()
    let kept = tenken_heap_in_use()
    print(
        "  walk: \(walked.directoriesRead) directories read, \(walked.directoriesTaken) taken unchanged"
            + (walked.fullWalk.map { " (read all: \($0))" } ?? ""))
    print(
        "  \(packageCount) packages, \(counts.candidates) programs looked at "
            + "(\(counts.ownedUnchanged) owned and unchanged, \(counts.fromCache) from the cache, "
            + "\(counts.inspected) inspected)")
    print("  heap kept between checks (walk, caches): \(mebibytes(kept / 1024))")
    print("  whole check     \(format(checks.median))  p90 \(format(checks.percentile(0.9)))  (median)")
    print("  dpkg-query -W   \(format(peerTimes.median))  p90 \(format(peerTimes.percentile(0.9)))")
    let ratio = checks.median / peerTimes.median
    print("  ratio: \((ratio * 100).rounded() / 100)×   goal ≤ 2×: \(ratio <= 2 ? "met" : "NOT met")")
}
