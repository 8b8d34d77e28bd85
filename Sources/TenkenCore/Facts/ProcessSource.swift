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

public enum ProcessSource {
    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
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
        let wantedInodes = Set(facts.listeningSockets.map(\.inode))
        var hiddenExecutables = 0
        var hiddenSockets = 0
        for entry in entries where entry.kind == .directory {
            guard let pid = Int32(entry.name.display), pid > 0,
                  let directory = try? proc.subdirectory(entry.name) else { continue }
            // A process can exit between readdir and these reads: then it is simply not listed.
            guard let comm = try? directory.readFile(FileName("comm"), limit: 4096),
                  let owner = try? directory.status(FileName("cmdline")).uid else { continue }
            let arguments = (try? directory.readFile(FileName("cmdline"), limit: 256 << 10))
                .map { ByteText.split($0[...], on: 0).map { ByteText.display($0) } } ?? []
            var executable: String?
            do {
                executable = try directory.readLink(FileName("exe")).display
            } catch where error.reason == .permissionDenied {
                hiddenExecutables += 1
            } catch {}  // kernel threads have no executable
            var inodes: [UInt64] = []
            if !wantedInodes.isEmpty {
                do {
                    inodes = try socketInodes(in: directory, wanted: wantedInodes)
                } catch where error.reason == .permissionDenied {
                    hiddenSockets += 1
                } catch {}
            }
            facts.processes.append(RunningProcess(
                pid: pid, uid: owner, command: ByteText.display(comm.split(separator: 0x0A).first ?? []),
                executable: executable, arguments: arguments, listeningSocketInodes: inodes))
        }
        if hiddenExecutables > 0 {
            facts.issues.append(FactIssue(.processes, .limited, Localized(
                ja: "\(hiddenExecutables) 個のプロセスの実行ファイルは権限がなく確認できません (root で実行してください)",
                en: "the executables of \(hiddenExecutables) processes are not visible without root")))
        }
        if hiddenSockets > 0 {
            facts.issues.append(FactIssue(.sockets, .limited, Localized(
                ja: "\(hiddenSockets) 個のプロセスのソケットは権限がなく確認できません (root で実行してください)",
                en: "the sockets of \(hiddenSockets) processes are not visible without root")))
        }
        facts.processes.sort { $0.pid < $1.pid }
        for index in facts.listeningSockets.indices {
            let inode = facts.listeningSockets[index].inode
            facts.listeningSockets[index].pids = facts.processes
                .filter { $0.listeningSocketInodes.contains(inode) }.map(\.pid)
        }
    }

    private static func socketInodes(in process: Directory, wanted: Set<UInt64>) throws(HostReadError) -> [UInt64] {
        let descriptors = try process.subdirectory(FileName("fd"))
        var inodes: [UInt64] = []
        for entry in try descriptors.entries() {
            guard let target = try? descriptors.readLink(entry.name).bytes,
                  target.starts(with: Array("socket:[".utf8)), target.last == 0x5D,
                  let inode = UInt64(String(decoding: target.dropFirst(8).dropLast(), as: UTF8.self)),
                  wanted.contains(inode) else { continue }
            inodes.append(inode)
        }
        return inodes
    }
}
