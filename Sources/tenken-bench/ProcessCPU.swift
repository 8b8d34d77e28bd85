import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// CPU seconds (user + system) a process has used so far, from /proc/PID/stat: what the
/// collector and the load generator each cost per report, as they share this machine's cores.
func processCPUSeconds(_ pid: pid_t) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let afterName = stat.lastIndex(of: ")")
    else { return nil }
    // Fields after "(comm)": state is field 3, utime 14 and stime 15 (proc(5)).
    let fields = stat[stat.index(after: afterName)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
