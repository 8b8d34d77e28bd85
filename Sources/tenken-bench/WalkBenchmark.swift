import TenkenBase
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// The program-file walk (the `files` source) against `find -P` over the same trees (issue 14's
/// peer), alternated in one run: first the trees the check walks under this root, then a generated
/// home of `entries` entries, made in a scratch root and removed afterwards.
@MainActor
func benchmarkWalk(root: HostRoot, rootPath: String, runs: Int, entries: Int, policy: Policy) {
    print("\nProgram-file walk vs find -P (\(runs) runs each, alternated):")
    var homes = HostFacts()
    FactSourceRegistry.declaration(of: .files).collect(root, HostFacts.Request(), &homes)
    let prefix = rootPath == "/" ? "" : rootPath
    let deep = (homes.homes.map(\.path) + ExecutableSource.wholeTrees.map(\.path)).map { prefix + $0 }
        .filter { access($0, F_OK) == 0 }
    let shallow = ExecutableSource.systemPaths.map { prefix + $0 }.filter { access($0, F_OK) == 0 }
    compareWalk(
        label: "this root's trees", root: root, policy: policy, runs: runs,
        finds: [["find", "-P"] + deep, ["find", "-P"] + shallow + ["-maxdepth", "1"]])

    guard entries > 0, let scratch = GeneratedHome(entries: entries) else { return }
    defer { scratch.remove() }
    guard let generatedRoot = try? HostRoot(scratch.path) else { return }
    compareWalk(
        label: "a generated home of \(entries) entries", root: generatedRoot, policy: policy, runs: runs,
        finds: [["find", "-P", scratch.path + "/home/alice"]])
}

@MainActor
private func compareWalk(label: String, root: HostRoot, policy: Policy, runs: Int, finds: [[String]]) {
    let request = policy.factRequest
    var walkTimes = Samples()
    var findTimes = Samples()
    var facts = HostFacts()
    let lines = finds.reduce(0) { $0 + capture($1).output.utf8.count { $0 == 0x0A } }
    for _ in 0..<runs {
        walkTimes.add(
            measure {
                facts = HostFacts()
                FactSourceRegistry.declaration(of: .files).collect(root, request, &facts)
            })
        findTimes.add(measure { for command in finds { _ = spawn(command) } })
    }
    let gaps = facts.issues.filter { $0.source == .files }.count
    print("  \(label): \(lines) entries, \(facts.executables.count) program files kept, \(gaps) gaps")
    print("    tenken walk   median \(format(walkTimes.median))  p90 \(format(walkTimes.percentile(0.9)))")
    print("    find -P       median \(format(findTimes.median))  p90 \(format(findTimes.percentile(0.9)))")
    let ratio = walkTimes.median / findTimes.median
    print(
        "    ratio (median) walk / find: \((ratio * 100).rounded() / 100)×   goal ≤ 1.5×: \(ratio <= 1.5 ? "met" : "NOT met")"
    )
}

/// A home shaped like a developer's: project trees with nested dependency folders of varying depth
/// (up to 14 levels) and a cache, 100 files per directory, and one P2P client at the deepest level.
private struct GeneratedHome {
    let path: String

    init?(entries: Int) {
        var template = Array("/tmp/tenken-bench-walk-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return nil }
        path = String(cString: made)
        let started = ContinuousClock.now
        var written = 0
        var directory = 0
        while written < entries {
            let depth = 2 + directory % 13
            var components = ["home", "alice", directory % 2 == 0 ? "projects" : ".cache", "p\(directory % 40)"]
            for level in 0..<depth {
                components.append(level % 2 == 0 ? "node_modules" : "m\(directory % (level + 3))")
            }
            components.append("d\(directory)")
            let directoryPath = path + "/" + components.joined(separator: "/")
            guard Self.makeDirectories(directoryPath) else { return nil }
            for file in 0..<min(100, entries - written) {
                let descriptor = open(
                    directoryPath + "/file-\(file).js", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                if descriptor >= 0 { close(descriptor) }
            }
            written += 100 + 1
            directory += 1
        }
        let client = open(path + "/home/alice/projects/p0/node_modules/m0/qbittorrent", O_WRONLY | O_CREAT, 0o755)
        if client >= 0 { close(client) }
        print("  (generated \(written) entries in \(ContinuousClock.now - started))")
    }

    private static func makeDirectories(_ path: String) -> Bool {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    func remove() { _ = spawn(["rm", "-rf", "--one-file-system", path]) }
}
