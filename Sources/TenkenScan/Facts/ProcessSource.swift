import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// A process from /proc/PID: its executable, command line and the listening sockets it holds.
public struct RunningProcess: Sendable, Codable, Hashable {
    public let pid: Int32
    public let uid: UInt32
    /// /proc/PID/comm: the first 15 bytes of the program name.
    public let command: String
    /// The /proc/PID/exe link target, when readable (not for other users' processes unless root).
    public let executable: String?
    public let arguments: [String]
    /// Inodes of listening sockets this process holds open.
    public var listeningSocketInodes: [UInt64]
}

/// Lists the processes in /proc with their executables, and the listening sockets each holds.
public enum ProcessSource {
    static func collect(_ root: HostRoot, request: HostFacts.Request, into facts: inout HostFacts) {
        let proc: Directory
        do {
            guard let directory = try root.directoryIfPresent("/proc") else { return }
            proc = directory
        } catch {
            facts.issues.append(.unreadable(.processes, error))
            return
        }
        let entries: [Directory.Entry]
        do { entries = try proc.entries() } catch {
            facts.issues.append(.unreadable(.processes, error))
            return
        }
        var hiddenExecutables = 0
        for entry in entries where entry.kind == .directory {
            guard let pid = Int32(entry.name.display), pid > 0,
                let directory = try? proc.subdirectory(entry.name)
            else { continue }
            // A process can exit between readdir and these reads: then it is simply not listed.
            guard let owner = try? directory.status(FileName("cmdline")).uid,
                let commandLine = try? directory.readPrefix(FileName("cmdline"), count: 256 << 10)
            else { continue }
            var executable: String?
            do {
                executable = try directory.readLink(FileName("exe")).display
            } catch  where error.reason == .permissionDenied {
                hiddenExecutables += 1
            } catch {}  // kernel threads have no executable
            // comm (15 bytes of the name) only matters when the executable cannot be seen.
            let command =
                executable != nil
                ? ""
                : (try? directory.readFile(FileName("comm"), limit: 4096))
                    .map { ByteText.display($0.split(separator: 0x0A).first ?? []) } ?? ""
            facts.processes.append(
                RunningProcess(
                    pid: pid, uid: owner, command: command, executable: executable,
                    arguments: ByteText.split(commandLine[...], on: 0).map { ByteText.display($0) },
                    listeningSocketInodes: []))
        }
        if hiddenExecutables > 0 {
            facts.issues.append(
                FactIssue(
                    .processes, .limited, .unreadable, path: "/proc",
                    hiddenMessage(hiddenExecutables, what: .executables)))
        }
        facts.processes.sort { $0.pid < $1.pid }
        attachSockets(proc, request: request, into: &facts)
    }

    /// Finds which processes hold the listening sockets the request asks about, by reading
    /// /proc/PID/fd: first the processes with requested names, then the sockets' owners, then
    /// everyone else, each pass only for the inodes still unknown.
    private static func attachSockets(_ proc: Directory, request: HostFacts.Request, into facts: inout HostFacts) {
        let sockets = facts.listeningSockets
        let all = Set(sockets.map(\.inode))
        let onPorts = Set(
            sockets.filter { socket in
                request.allSocketOwners || request.socketPorts.contains { $0.contains(socket) }
            }.map(\.inode))
        let named = Set(
            facts.processes.indices.filter { index in
                let process = facts.processes[index]
                return
                    ([process.command.lowercased()]
                    + [process.executable, process.arguments.first].compactMap { $0 }
                    .map(FactNames.baseName)).contains { request.processNames.contains($0) }
            })
        guard !all.isEmpty, !named.isEmpty || !onPorts.isEmpty else { return }
        let owners = Set(sockets.filter { onPorts.contains($0.inode) }.map(\.uid))
        let uids = facts.processes.map(\.uid)
        var unresolved = onPorts
        var hidden = 0
        let passes: [(Int) -> Bool] = [
            { named.contains($0) },
            { !named.contains($0) && owners.contains(uids[$0]) },
            { !named.contains($0) && !owners.contains(uids[$0]) },
        ]
        for (pass, belongs) in passes.enumerated() {
            let lookingFor = pass == 0 ? all : unresolved
            if lookingFor.isEmpty { continue }
            for index in facts.processes.indices where belongs(index) {
                do {
                    let process = try proc.subdirectory(FileName(String(facts.processes[index].pid)))
                    let inodes = try socketInodes(in: process, wanted: lookingFor)
                    facts.processes[index].listeningSocketInodes += inodes
                    unresolved.subtract(inodes)
                } catch  where error.reason == .permissionDenied {
                    hidden += 1
                } catch {}
            }
        }
        if hidden > 0 {
            facts.issues.append(
                FactIssue(.sockets, .limited, .unreadable, path: "/proc", hiddenMessage(hidden, what: .sockets)))
        }
        for index in facts.listeningSockets.indices {
            let inode = facts.listeningSockets[index].inode
            facts.listeningSockets[index].pids = facts.processes
                .filter { $0.listeningSocketInodes.contains(inode) }.map(\.pid)
        }
    }

    private enum Hidden { case executables, sockets }

    /// Names what could not be seen and why. As root, a process can still be hidden when it holds
    /// capabilities this one lacks (the init of a container or sandbox): running as root again
    /// would not help, so the message must not say it would.
    private static func hiddenMessage(_ count: Int, what: Hidden) -> Localized {
        let (ja, en) = what == .executables ? ("実行ファイル", "executables") : ("ソケット", "sockets")
        if geteuid() == 0 {
            return Localized(
                ja: "\(count) 個のプロセスの\(ja)は root でも確認できません (このプロセスにない特権を持つプロセス)",
                en: "the \(en) of \(count) processes are not visible even to root (they hold privileges this one lacks)"
            )
        }
        return Localized(
            ja: "\(count) 個のプロセスの\(ja)は権限がなく確認できません (root で実行してください)",
            en: "the \(en) of \(count) processes are not visible without root")
    }

    private static func socketInodes(in process: Directory, wanted: Set<UInt64>) throws(HostReadError) -> [UInt64] {
        let descriptors = try process.subdirectory(FileName("fd"))
        var inodes: [UInt64] = []
        for entry in try descriptors.entries() {
            guard let target = try? descriptors.readLink(entry.name).bytes,
                target.starts(with: Array("socket:[".utf8)), target.last == 0x5D,
                let inode = UInt64(String(decoding: target.dropFirst(8).dropLast(), as: UTF8.self)),
                wanted.contains(inode)
            else { continue }
            inodes.append(inode)
        }
        return inodes
    }
}
