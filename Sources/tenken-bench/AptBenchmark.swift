import TenkenBase
import TenkenScan

/// Pending updates computed in-process against `apt list --upgradable` (issue 3's peer): the
/// same answer, and the time of each, alternated in one run.
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
    print("  speed-up (median) \((speedup * 10).rounded() / 10)×   goal ≥ 5×: \(speedup >= 5 ? "met" : "NOT met")")
    print(
        "  answer: \(ours.count) pending (\(security) security), apt lists \(aptAnswer.count): "
            + (ourAnswer == aptAnswer ? "identical" : "DIFFERENT"))
    for line in ourAnswer.subtracting(aptAnswer).sorted().prefix(10) { print("    only tenken: \(line)") }
    for line in aptAnswer.subtracting(ourAnswer).sorted().prefix(10) { print("    only apt:    \(line)") }
}
