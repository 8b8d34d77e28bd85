import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 16's memory goals, on whole programs as they run: the peak resident memory of a full
/// `tenken check` (wait4's ru_maxrss), and the agent's resident memory once its first check is
/// spooled and it waits for the next (VmRSS), with its own peak (VmHWM).
func benchmarkMemory(tenken: String, agent: String, rootPath: String, runs: Int) {
    print("\nMemory (\(runs) runs of the whole default check):")
    var peaks: [Int] = []
    for _ in 0..<runs {
        guard let peak = peakResidentKiB([tenken, "check", "--root", rootPath, "--json"]) else {
            print("  cannot run \(tenken)")
            exit(2)
        }
        peaks.append(peak)
    }
    let worst = peaks.max() ?? 0
    print(
        "  tenken check --json: peak RSS \(mebibytes(peaks.min() ?? 0))–\(mebibytes(worst))   "
            + "goal ≤ 64 MB: \(worst <= 64 << 10 ? "met" : "NOT met")")

    let state = "/tmp/tenken-bench-agent-memory-\(getpid())"
    defer { _ = spawn(["rm", "-rf", state]) }
    // No collector link: the report stays spooled, and the agent waits a day for the next check.
    let command = [agent, "agent", "--root", rootPath, "--state-dir", state, "--interval", "1d", "--settle", "1h"]
    guard let pid = spawnBackground(command) else {
        print("  cannot start \(agent)")
        exit(2)
    }
    defer {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
    let started = ContinuousClock.now
    while spooledReports(state) == 0 {
        guard ContinuousClock.now - started < .seconds(120) else {
            print("  the agent spooled no report in 120 s")
            return
        }
        usleep(50_000)
    }
    // The first delivery attempt fails at once (not enrolled); then the agent is idle.
    sleep(3)
    guard let status = processMemory(pid) else {
        print("  cannot read /proc/\(pid)/status")
        return
    }
    print(
        "  tenken agent, idle after its first check: RSS \(mebibytes(status.resident)) "
            + "(\(mebibytes(status.anonymous)) of it anonymous), peak \(mebibytes(status.peak))   "
            + "goal ≤ 15 MB idle: \(status.resident <= 15 << 10 ? "met" : "NOT met")")
}

/// A command's peak resident memory in KiB (no shell, output discarded). A child's ru_maxrss
/// also counts the process that spawned it: exec folds the high-water mark of the memory it
/// replaces into the child's, and a vfork child replaces its parent's, which here holds the
/// benchmarks' data. So a fresh `tenken-bench --peak-of`, a few megabytes, spawns it instead.
func peakResidentKiB(_ arguments: [String]) -> Int? {
    let output = capture([CommandLine.arguments[0], "--peak-of"] + arguments)
    guard output.status == 0 else { return nil }
    return Int(output.output.split(separator: "\n").first ?? "")
}

/// Runs a command (output discarded) and returns its peak resident memory in KiB, or nil when it
/// did not end with 0, 1 or 2.
func peakOfChild(_ arguments: [String]) -> Int? {
    guard let pid = spawnBackground(arguments) else { return nil }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    guard (status & 0x7F) == 0, (0...2).contains((status >> 8) & 0xFF) else { return nil }
    return usage.ru_maxrss
}

/// VmRSS, RssAnon and VmHWM of a running process, in KiB (proc(5)).
func processMemory(_ pid: pid_t) -> (resident: Int, anonymous: Int, peak: Int)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    var fields: [String: Int] = [:]
    for line in text.split(separator: "\n") {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count >= 2, let value = Int(words[1]) else { continue }
        fields[String(words[0].dropLast())] = value
    }
    guard let resident = fields["VmRSS"], let anonymous = fields["RssAnon"], let peak = fields["VmHWM"] else {
        return nil
    }
    return (resident, anonymous, peak)
}

private func spooledReports(_ state: String) -> Int {
    guard let directory = opendir(state + "/spool") else { return 0 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if !name.hasPrefix(".") { count += 1 }
    }
    return count
}

func mebibytes(_ kibibytes: Int) -> String {
    "\((Double(kibibytes) / 1024 * 10).rounded() / 10) MB"
}
