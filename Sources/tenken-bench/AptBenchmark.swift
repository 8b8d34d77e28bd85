import TenkenBase
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// Pending updates computed in-process against `apt list --upgradable` (issue 3's peer): the
/// same answer, and the time of each, alternated in one run. No cache and no memory: every run
/// decompresses and parses every list (a cold parse).
@MainActor
func benchmarkPendingUpdates(root: HostRoot, rootPath: String, runs: Int) {
    print("\nPending updates vs apt list --upgradable (\(runs) runs each):")
    var ours: [PendingUpdate] = []
    let compute = {
        var facts = HostFacts()
        for source in [FactSource.dpkg, .apt] {
            FactSourceRegistry.declaration(of: source).collect(root, HostFacts.Request(sources: [.apt]), &facts)
        }
        ours = facts.apt?.pendingUpdates ?? []
    }
    var aptCommand = ["apt", "list", "--upgradable"]
    if rootPath != "/" {
        aptCommand += ["-o", "Dir=" + rootPath, "-o", "Dir::State::status=" + rootPath + "/var/lib/dpkg/status"]
    }
    var aptOutput = ""
    var tenkenTimes = Samples()
    var aptTimes = Samples()
    for _ in 0..<runs {
        tenkenTimes.add(measure(compute))
        aptTimes.add(measure { aptOutput = capture(aptCommand).output })
    }
    // "name/suite,suite version arch [upgradable from: installed]"
    let aptAnswer = Set(
        aptOutput.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard words.count >= 6, let slash = words[0].firstIndex(of: "/") else { return nil }
            return "\(words[0][..<slash]) \(words[5].dropLast()) -> \(words[1])"
        })
    let ourAnswer = Set(ours.map { "\($0.name) \($0.installed) -> \($0.candidate)" })
    let security = ours.filter(\.isSecurity).count
    print(
        "  tenken (dpkg status + apt lists)  median \(format(tenkenTimes.median))  "
            + "p90 \(format(tenkenTimes.percentile(0.9)))"
    )
    print(
        "  apt list --upgradable             median \(format(aptTimes.median))  p90 \(format(aptTimes.percentile(0.9)))"
    )
    let speedup = aptTimes.median / tenkenTimes.median
    print("  speed-up (median) \((speedup * 10).rounded() / 10)×   goal ≥ 8×: \(speedup >= 8 ? "met" : "NOT met")")
    print(
        "  answer: \(ours.count) pending (\(security) security), apt lists \(aptAnswer.count): "
            + (ourAnswer == aptAnswer ? "identical" : "DIFFERENT"))
    for line in ourAnswer.subtracting(aptAnswer).sorted().prefix(10) { print("    only tenken: \(line)") }
    for line in aptAnswer.subtracting(ourAnswer).sorted().prefix(10) { print("    only apt:    \(line)") }
}

/// The rules that read apt's lists (the patch verdict).
let patchRules = [
    "security-updates-applied", "os-release-supported", "other-updates-applied", "package-lists-fresh",
    "reboot-not-pending", "automatic-security-updates",
]

/// apt's lists read three ways, in-process, after dpkg's status: parsed from scratch (`tenken
/// check`), from the parse kept in the state directory (`tenken check --cache`, an agent just
/// started), and from the parse the agent keeps in memory. The lists are unchanged throughout.
func benchmarkListsCache(root: HostRoot, runs: Int) {
    let statePath = "/tmp/tenken-bench-lists-\(getpid())"
    defer { _ = spawn(["rm", "-rf", statePath]) }
    guard let state = try? StateDirectory(statePath) else {
        print("cannot make the state directory \(statePath)")
        exit(2)
    }
    var installed = HostFacts()
    FactSourceRegistry.declaration(of: .dpkg).collect(root, HostFacts.Request(), &installed)
    let apt = FactSourceRegistry.declaration(of: .apt)
    let cold = HostFacts.Request(sources: [.apt])
    var fromFile = cold
    fromFile.cacheDirectory = state
    var inMemory = fromFile
    inMemory.memory = CheckMemory(journaling: false)
    var times = [Samples(), Samples(), Samples()]
    var reused = [0, 0, 0]
    for (mode, request) in [cold, fromFile, inMemory].enumerated() {
        var facts = installed
        apt.collect(root, request, &facts)  // fills the file and the memory
        for _ in 0..<runs {
            facts = installed
            times[mode].add(measure { apt.collect(root, request, &facts) })
        }
        reused[mode] = facts.apt?.listsReused ?? 0
    }
    print("apt lists, unchanged, after dpkg's status, in-process (\(runs) runs, median):")
    for (mode, title) in ["parsed from scratch", "from the state directory", "kept in memory (agent)"].enumerated() {
        print(
            "  \(title.padding(26)) \(format(times[mode].median))  p90 \(format(times[mode].percentile(0.9)))  "
                + "(\(reused[mode]) lists reused)")
    }
}
