import TenkenBase
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

/// Content inspection (the `files` walk and the `content` source) against `grep -c -a -F` with
/// the same signatures over the same files, issue 15's I/O peer: a generated tree of `count`
/// unowned executables, copies of this machine's own ELF programs and libraries, about `megabytes`
/// in all. tenken runs with its content cache empty (every file read) and warm (none read);
/// alternated in one run, after one grep has brought the files into the page cache for both.
@MainActor
func benchmarkContent(runs: Int, count: Int, megabytes: Int, policy: Policy) {
    print("\nContent inspection vs grep -c -a -F (\(runs) runs each, alternated):")
    guard let tree = ExecutableTree(count: count, bytes: megabytes << 20) else {
        print("  cannot make the tree of executables")
        return
    }
    defer { tree.remove() }
    guard let root = try? HostRoot(tree.path), let state = try? StateDirectory(tree.path + "-state") else { return }
    defer { _ = spawn(["rm", "-rf", tree.path + "-state"]) }
    var request = policy.factRequest
    let rules = policy.catalog.contentRules(for: ["p2p", "cloud-sync", "remote-access"])
    request.content = rules
    let patterns = tree.path + "-patterns"
    let lines = rules.protocols.flatMap(\.signatures).map(\.bytes).joined(separator: [0x0A])
    let file = open(patterns, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    _ = Array(lines).withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    close(file)
    defer { unlink(patterns) }
    let grep = ["grep", "-c", "-a", "-F", "-f", patterns, "-r", tree.path + "/home"]
    _ = capture(grep)

    var grepTimes = Samples()
    var coldTimes = Samples()
    var warmTimes = Samples()
    var cold = HostFacts()
    var warm = HostFacts()
    func inspect(cache: StateDirectory?) -> HostFacts {
        var facts = HostFacts()
        var cached = request
        cached.cacheDirectory = cache
        FactSourceRegistry.declaration(of: .files).collect(root, cached, &facts)
        FactSourceRegistry.declaration(of: .content).collect(root, cached, &facts)
        return facts
    }
    for _ in 0..<runs {
        grepTimes.add(measure { _ = capture(grep) })
        try? state.remove("content-cache")
        coldTimes.add(measure { cold = inspect(cache: state) })
        warmTimes.add(measure { warm = inspect(cache: state) })
    }
    let counts = cold.contentCounts
    print(
        "  \(tree.files) executables, \(tree.bytes >> 20) MB; tenken searched \(counts.searchedBytes >> 20) MB "
            + "(debug sections are not searched), \(cold.inspectedPrograms.count) marked, "
            + "\(warm.contentCounts.fromCache) from the warm cache")
    print("    grep -c -a -F     median \(format(grepTimes.median))  p90 \(format(grepTimes.percentile(0.9)))")
    print("    tenken, cold      median \(format(coldTimes.median))  p90 \(format(coldTimes.percentile(0.9)))")
    print("    tenken, warm      median \(format(warmTimes.median))  p90 \(format(warmTimes.percentile(0.9)))")
    let coldRatio = coldTimes.median / grepTimes.median
    let warmSpeedup = grepTimes.median / warmTimes.median
    print(
        "    cold / grep: \((coldRatio * 100).rounded() / 100)×  goal ≤ 1.5×: \(coldRatio <= 1.5 ? "met" : "NOT met")")
    print(
        "    grep / warm: \((warmSpeedup * 10).rounded() / 10)×  goal ≥ 20×: \(warmSpeedup >= 20 ? "met" : "NOT met")")
}

/// `count` copies of this machine's ELF programs and shared libraries (sizes between 256 KB and
/// 8 MB, chosen to average `bytes / count`), executable, in one home of a scratch root.
private struct ExecutableTree {
    let path: String
    private(set) var files = 0
    private(set) var bytes = 0

    init?(count: Int, bytes wanted: Int) {
        var template = Array("/tmp/tenken-bench-content-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return nil }
        path = String(cString: made)
        let pool = Self.pool()
        guard !pool.isEmpty else { return nil }
        let average = wanted / max(count, 1)
        // Alternate smaller and larger files around the average, so the total comes out near it.
        let small = pool.filter { $0.size <= average }
        let large = pool.filter { $0.size > average }
        let bin = path + "/home/bench/bin"
        _ = spawn(["mkdir", "-p", bin, path + "/etc"])
        let passwd = open(path + "/etc/passwd", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let line = Array("bench:x:1000:1000::/home/bench:/bin/sh\n".utf8)
        _ = line.withUnsafeBytes { write(passwd, $0.baseAddress, $0.count) }
        close(passwd)
        var index = 0
        while files < count {
            let below = bytes < average * files
            let source = below && !large.isEmpty ? large[index % large.count] : small[index % max(small.count, 1)]
            let target = bin + "/prog-\(files)"
            guard spawn(["cp", source.path, target]) == 0 else { return nil }
            chmod(target, 0o755)
            bytes += source.size
            files += 1
            index += 1
        }
        print("  (generated \(files) executables, \(bytes >> 20) MB)")
    }

    private static func pool() -> [(path: String, size: Int)] {
        var found: [(String, Int)] = []
        for directory in ["/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec"] {
            guard let stream = opendir(directory) else { continue }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                let full = directory + "/" + name
                var info = stat()
                guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                    (256 << 10...8 << 20).contains(Int(info.st_size)), isELF(full)
                else { continue }
                found.append((full, Int(info.st_size)))
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    private static func isELF(_ path: String) -> Bool {
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return false }
        defer { close(file) }
        var magic = [UInt8](repeating: 0, count: 4)
        return read(file, &magic, 4) == 4 && magic == [0x7F, 0x45, 0x4C, 0x46]
    }

    func remove() { _ = spawn(["rm", "-rf", "--one-file-system", path]) }
}
