import TenkenBase
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

// tenken-bench [--root DIR] [--runs N] [--tenken PATH]
//              [--suite all|apt|check|dpkg|walk|disk|content|agent|updates|ingest]
//              [--entries N] [--files N] [--megabytes N] [--machines N] [--reports N] [--plain]
// Each benchmark runs against its named peer in one run, alternated so machine noise falls on
// both alike: pending updates against `apt list --upgradable` (same answer required), then
// `tenken check` against `dpkg-query -W` as whole commands, plus each phase in-process.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--peak-of" {
    // Run by `peakResidentKiB` as a small go-between; see there.
    guard arguments.count > 1, let peak = peakOfChild(Array(arguments.dropFirst())) else { exit(2) }
    print(peak)
    exit(0)
}
@MainActor func option(_ name: String, default value: String) -> String {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return value }
    return arguments[index + 1]
}
let rootPath = option("--root", default: "/")
let runs = Int(option("--runs", default: "30")) ?? 30
let ownDirectory = CommandLine.arguments[0].split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(
    separator: "/")
let tenkenPath = option("--tenken", default: (ownDirectory.isEmpty ? "." : ownDirectory) + "/tenken")

guard let root = try? HostRoot(rootPath), let policy = try? PolicyLoader.loadDefault() else {
    print("cannot open root \(rootPath) or load the default policy")
    exit(2)
}

let suite = option("--suite", default: "all")
if suite == "ingest" {
    print("tenken-bench: collector ingest")
    await benchmarkIngest(
        collector: option("--collector", default: (ownDirectory.isEmpty ? "." : ownDirectory) + "/tenken-collector"),
        machines: Int(option("--machines", default: "32")) ?? 32,
        reports: Int(option("--reports", default: "20000")) ?? 20000,
        plain: arguments.contains("--plain"), root: root)
    exit(0)
}
if suite == "walk" {
    benchmarkWalk(
        root: root, rootPath: rootPath, runs: runs, entries: Int(option("--entries", default: "1000000")) ?? 1_000_000,
        policy: policy)
    exit(0)
}
if suite == "disk" {
    benchmarkDisk(
        root: root, rootPath: rootPath, runs: max(1, Int(option("--runs", default: "3")) ?? 3), policy: policy)
    exit(0)
}
if suite == "content" {
    benchmarkContent(
        runs: Int(option("--runs", default: "5")) ?? 5, count: Int(option("--files", default: "1000")) ?? 1000,
        megabytes: Int(option("--megabytes", default: "1024")) ?? 1024, policy: policy)
    exit(0)
}
if suite == "agent" {

    let rules = option("--rules", default: "no-p2p-software,no-personal-cloud-sync,no-remote-access-software")
    benchmarkAgentCheck(root: root, rootPath: rootPath, runs: runs, rules: rules.split(separator: ",").map(String.init))
    exit(0)
}
if suite == "updates" {
    // Issue 16: a cold parse of the lists against apt; the patch rules as the agent checks them, lists
    // unchanged, against dpkg-query; the lists parsed, cached and kept; memory of check and agent.
    print("tenken-bench: root \(rootPath), \(runs) runs")
    benchmarkPendingUpdates(root: root, rootPath: rootPath, runs: runs)
    print("")
    benchmarkAgentCheck(root: root, rootPath: rootPath, runs: runs, rules: patchRules)
    benchmarkListsCache(root: root, runs: runs)
    benchmarkMemory(
        tenken: tenkenPath, agent: (ownDirectory.isEmpty ? "." : ownDirectory) + "/tenken-agent", rootPath: rootPath,
        runs: 3)
    exit(0)
}
if suite == "dpkg" {
    // The status parser alone, on the root's status file (no read, no threads).
    guard let bytes = try? root.readFile(DpkgSource.statusPath) else {
        print("no readable \(DpkgSource.statusPath) under \(rootPath)")
        exit(2)
    }
    var parse = Samples()
    var packages = 0
    for _ in 0..<(runs * 10) { parse.add(measure { packages = DpkgStatusParser(bytes).packages.count }) }
    print("dpkg status parse: \(packages) packages, \(bytes.count) bytes, median \(format(parse.median))")
    exit(0)
}
print("tenken-bench: root \(rootPath), \(runs) runs")
if suite == "apt" || suite == "all" { benchmarkPendingUpdates(root: root, rootPath: rootPath, runs: runs) }
if suite == "apt" { exit(0) }
print("\nIn-process phases (median):")
var phases: [String: Samples] = [:]
var lastFacts = HostFacts()
for _ in 0..<runs {
    phases["policy load", default: Samples()].add(measure { _ = try? PolicyLoader.loadDefault() })
    var facts = HostFacts()
    let request = policy.factRequest
    // Every source the policy turns on, one after another, in the registry's order.
    for source in FactSourceRegistry.all where source.isRequested(by: request) {
        phases["collect " + source.name, default: Samples()].add(measure { source.collect(root, request, &facts) })
    }
    var findings: [Finding] = []
    phases["evaluate", default: Samples()].add(
        measure { findings = Evaluator.evaluate(policy, facts: facts, now: Timestamp.seconds()) })
    let report = CheckReport(
        facts: facts, root: rootPath, policy: policy, findings: findings,
        startedAt: Timestamp.now(), duration: 0)
    phases["encode json", default: Samples()].add(measure { _ = try? report.json() })
    lastFacts = facts
}
let phaseNames =
    ["policy load"]
    + FactSourceRegistry.all.filter { $0.isRequested(by: policy.factRequest) }
    .map { "collect " + $0.name } + ["evaluate", "encode json"]
for name in phaseNames {
    print("  \(name.padding(20)) \(format(phases[name]!.median))")
}
print(
    "  facts: \(lastFacts.debianPackages.count) packages, \(lastFacts.executables.count) program files, "
        + "\(lastFacts.processes.count) processes, \(lastFacts.listeningSockets.count) listening sockets")

print("\nWhole commands, alternated (\(runs) runs each):")
var tenkenTimes = Samples()
var tenkenJSONTimes = Samples()
var fullTimes = Samples()
var peerTimes = Samples()
// The pre-engagement software check (issue 2's scope) against dpkg-query; the whole default
// policy, which also parses every apt list, is timed beside it.
let softwareRules = "no-p2p-software,no-personal-cloud-sync,no-remote-access-software"
let fullCommand = [tenkenPath, "check", "--root", rootPath]
let tenkenCommand = fullCommand + ["--rules", softwareRules]
let tenkenJSONCommand = tenkenCommand + ["--json"]
// The same with the content cache warm, as the agent runs it (a scratch state directory).
let benchState = "/tmp/tenken-bench-state-\(getpid())"
let tenkenCachedCommand = tenkenCommand + ["--cache", "--state-dir", benchState]
var cachedTimes = Samples()
let peerCommand = [
    "dpkg-query", "--admindir=" + (rootPath == "/" ? "/var/lib/dpkg" : rootPath + "/var/lib/dpkg"), "-W",
]
for _ in 0..<3 {
    _ = spawn(tenkenCommand)
    _ = spawn(tenkenCachedCommand)
    _ = spawn(peerCommand)
}
for _ in 0..<runs {
    var status: Int32 = 0
    tenkenTimes.add(measure { status = spawn(tenkenCommand) })
    guard (0...2).contains(status) else {
        print("tenken failed to run (\(status)): \(tenkenCommand)")
        exit(2)
    }
    tenkenJSONTimes.add(measure { status = spawn(tenkenJSONCommand) })
    cachedTimes.add(measure { status = spawn(tenkenCachedCommand) })
    fullTimes.add(measure { status = spawn(fullCommand) })
    peerTimes.add(measure { status = spawn(peerCommand) })
    guard status == 0 else {
        print("dpkg-query failed (\(status))")
        exit(2)
    }
}
print(
    "  tenken check --rules <software>         median \(format(tenkenTimes.median))  "
        + "p90 \(format(tenkenTimes.percentile(0.9)))"
)
print(
    "  tenken check --rules <software> --json  median \(format(tenkenJSONTimes.median))  "
        + "p90 \(format(tenkenJSONTimes.percentile(0.9)))"
)
print(
    "  tenken check --rules <software> --cache median \(format(cachedTimes.median))  "
        + "p90 \(format(cachedTimes.percentile(0.9)))  (content cache warm)"
)
print(
    "  tenken check (whole default policy)     median \(format(fullTimes.median))  "
        + "p90 \(format(fullTimes.percentile(0.9)))"
)
print(
    "  dpkg-query -W                           median \(format(peerTimes.median))  "
        + "p90 \(format(peerTimes.percentile(0.9)))"
)
let ratio = tenkenTimes.median / peerTimes.median
let jsonRatio = tenkenJSONTimes.median / peerTimes.median
print(
    "  ratio (median) software check / dpkg-query -W: \((ratio * 100).rounded() / 100)×   "
        + "goal ≤ 2×: \(ratio <= 2 ? "met" : "NOT met")"
)
print("  ratio (median) with --json: \((jsonRatio * 100).rounded() / 100)×")
let cachedRatio = cachedTimes.median / peerTimes.median
print(
    "  ratio (median) software check, cache warm / dpkg-query -W: \((cachedRatio * 100).rounded() / 100)×   "
        + "goal ≤ 2×: \(cachedRatio <= 2 ? "met" : "NOT met")")
_ = spawn(["rm", "-rf", benchState])

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
