import TenkenBase
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 29's goal: the walk of every file system under the root with every unowned file
/// classified (the `files` and `content` sources, no content cache) against `find -xdev` over
/// the same file systems, alternated in one run: with the page cache dropped (time and bytes
/// read from disk, from /proc/diskstats) and warm. Dropping the cache needs root.
@MainActor
func benchmarkDisk(root: HostRoot, rootPath: String, runs: Int, policy: Policy) {
    print("\nWhole file systems vs find -xdev (\(runs) runs each, alternated):")
    let request = policy.factRequest
    var facts = HostFacts()
    func check() {
        facts = HostFacts()
        FactSourceRegistry.declaration(of: .dpkg).collect(root, request, &facts)
        FactSourceRegistry.declaration(of: .files).collect(root, request, &facts)
        FactSourceRegistry.declaration(of: .content).collect(root, request, &facts)
    }
    check()
    let prefix = rootPath == "/" ? "" : rootPath
    let walked = facts.fileSystemsMet.filter { $0.treatment == .walked }.map { prefix + $0.path }
    let find = ["find"] + walked + ["-xdev"]
    let entries = capture(find).output.utf8.count { $0 == 0x0A }
    let dropping = dropCaches()
    var times: [String: Samples] = [
        "cold tenken": Samples(), "cold find": Samples(), "warm tenken": Samples(),
        "warm find": Samples(),
    ]
    var megabytes: [String: Samples] = ["tenken": Samples(), "find": Samples()]
    for _ in 0..<runs {
        for (name, body) in [("tenken", { check() }), ("find", { _ = spawn(find) })] as [(String, () -> Void)] {
            if dropping {
                _ = dropCaches()
                let before = sectorsRead()
                times["cold " + name]!.add(measure(body))
                megabytes[name]!.add(Double(sectorsRead() - before) * 512 / 1_048_576)
            }
            times["warm " + name]!.add(measure(body))
        }
    }
    let counts = facts.walkCounts
    print(
        "  \(walked.count) file systems (\(walked.joined(separator: ", "))), \(entries) entries; "
            + "\(counts.ownedUnchanged) owned files not read, \(counts.headsRead) heads read, "
            + "\(facts.contentCounts.inspected) inspected, \(facts.inspectedPrograms.count) marked")
    for key in ["cold tenken", "cold find", "warm tenken", "warm find"] where !times[key]!.values.isEmpty {
        print("    \(key.padding(toLength: 12, withPad: " ", startingAt: 0))  median \(format(times[key]!.median))")
    }
    if dropping {
        let ratio = times["cold tenken"]!.median / times["cold find"]!.median
        let read = megabytes["tenken"]!.median
        print(
            "    read from disk: tenken \(Int(read)) MB, find \(Int(megabytes["find"]!.median)) MB  goal ≤ 500 MB: "
                + (read <= 500 ? "met" : "NOT met"))
        print("    cold tenken / find: \((ratio * 100).rounded() / 100)×  goal ≤ 2×: \(ratio <= 2 ? "met" : "NOT met")")
    } else {
        print("    (the page cache cannot be dropped here: run as root for the cold numbers)")
    }
    let warm = times["warm tenken"]!.median
    print("    warm tenken \(format(warm))  goal ≤ 2 s: \(warm <= 2000 ? "met" : "NOT met")")
}

/// Drops the page cache (root only); false when it cannot.
private func dropCaches() -> Bool {
    sync()
    let fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "3\n", 2) == 2
}

/// Sectors read from every whole disk since boot (/proc/diskstats, partitions left out).
private func sectorsRead() -> Int {
    guard let text = try? LocalFile.read(atPath: "/proc/diskstats", limit: 1 << 20) else { return 0 }
    var total = 0
    for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count > 5 else { continue }
        let name = fields[2]
        let whole =
            (name.hasPrefix("sd") || name.hasPrefix("vd") || name.hasPrefix("xvd")) && !(name.last?.isNumber ?? true)
            || (name.hasPrefix("nvme") && !name.contains("p"))
        if whole { total += Int(fields[5]) ?? 0 }
    }
    return total
}
