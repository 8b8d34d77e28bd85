/// Finds catalog applications in host facts. Names compare ASCII case-insensitively: the same
/// program is "TeamViewer" in one place and "teamviewer" in another, and Windows names ignore case.
struct ForbiddenSoftwareMatcher {
    private let entries: [CatalogEntry]
    private var byDeb: [String: [Int]] = [:]
    private var bySnap: [String: [Int]] = [:]
    private var byFlatpak: [String: [Int]] = [:]
    private var byExecutable: [String: [Int]] = [:]
    private var byCommand: [String: [Int]] = [:]
    private var byWine: [String: [Int]] = [:]

    init(entries: [CatalogEntry]) {
        self.entries = entries
        for (index, entry) in entries.enumerated() {
            for name in entry.deb { byDeb[name, default: []].append(index) }
            for name in entry.snap { bySnap[name, default: []].append(index) }
            for name in entry.flatpak { byFlatpak[name.lowercased(), default: []].append(index) }
            for name in entry.executables {
                byExecutable[name.lowercased(), default: []].append(index)
                // /proc/PID/comm holds at most 15 bytes of the name.
                byCommand[String(name.lowercased().utf8.prefix(15))!, default: []].append(index)
            }
            for name in entry.wine { byWine[name.lowercased(), default: []].append(index) }
        }
    }

    func evidence(in facts: HostFacts) -> [Evidence] {
        var found: [Evidence] = []
        for package in facts.debianPackages where package.isPresent {
            for index in byDeb[package.name] ?? [] {
                found.append(Evidence(source: .dpkg, software: entries[index].name, item: package.name,
                                      version: package.version, detail: package.state))
            }
        }
        for snap in facts.snaps {
            for index in bySnap[snap.name] ?? [] {
                found.append(Evidence(source: .snap, software: entries[index].name, item: snap.name, version: snap.revision))
            }
        }
        for app in facts.flatpaks {
            for index in byFlatpak[app.id.lowercased()] ?? [] {
                found.append(Evidence(source: .flatpak, software: entries[index].name, item: app.id, detail: app.installation))
            }
        }
        for file in facts.executables {
            let name = file.name.asciiLowercased
            let matches = file.location == .winePrefix ? byWine[name] : byExecutable[name] ?? appImageMatches(name)
            for index in matches ?? [] {
                found.append(Evidence(source: file.location == .winePrefix ? .wine : .file,
                                      software: entries[index].name, item: file.path))
            }
        }
        for (index, entry) in entries.enumerated() {
            for pattern in entry.paths {
                for path in concretePaths(pattern, homes: facts.homes) where facts.probedPaths[path] == true {
                    found.append(Evidence(source: .path, software: entries[index].name, item: path))
                }
            }
        }
        found += processEvidence(facts)
        return found
    }

    /// Processes by executable, argv[0] (Wine runs "C:\...\Winny.exe") or comm, with the
    /// sockets they listen on; then default ports held by processes tenken could not see.
    private func processEvidence(_ facts: HostFacts) -> [Evidence] {
        var found: [Evidence] = []
        var explainedInodes = Set<UInt64>()
        for process in facts.processes {
            let matches = processMatches(process)
            guard !matches.isEmpty else { continue }
            let user = facts.identity.userNames[process.uid] ?? String(process.uid)
            let sockets = facts.listeningSockets.filter { $0.pids.contains(process.pid) }
            explainedInodes.formUnion(sockets.map(\.inode))
            for index in matches {
                found.append(Evidence(source: .process, software: entries[index].name,
                                      item: process.executable ?? process.arguments.first ?? process.command,
                                      pid: process.pid, user: user,
                                      detail: process.arguments.joined(separator: " ").prefix(200).description))
                for socket in sockets {
                    found.append(Evidence(source: .socket, software: entries[index].name, item: socket.endpoint,
                                          pid: process.pid, user: user))
                }
            }
        }
        let visiblePIDs = Set(facts.processes.filter { $0.executable != nil }.map(\.pid))
        for socket in facts.listeningSockets where !explainedInodes.contains(socket.inode) {
            // A port held by a process we saw and did not match is that process's business.
            guard socket.pids.allSatisfy({ !visiblePIDs.contains($0) }) else { continue }
            for entry in entries where entry.ports.contains(where: { $0.contains(socket) }) {
                found.append(Evidence(source: .socket, confidence: .suspected, software: entry.name, item: socket.endpoint,
                                      user: facts.identity.userNames[socket.uid] ?? String(socket.uid),
                                      detail: entry.ports.map(\.description).joined(separator: ", ")))
            }
        }
        return found
    }

    private func processMatches(_ process: RunningProcess) -> [Int] {
        var matches = Set<Int>()
        if let executable = process.executable {
            let name = baseName(executable.hasSuffix(" (deleted)") ? String(executable.dropLast(10)) : executable)
            matches.formUnion(byExecutable[name] ?? [])
        }
        if let first = process.arguments.first {
            let name = baseName(first)
            matches.formUnion(byExecutable[name] ?? [])
            matches.formUnion(byWine[name] ?? [])
        }
        if matches.isEmpty { matches.formUnion(byCommand[process.command.lowercased()] ?? []) }
        return matches.sorted()
    }

    /// "qBittorrent-4.6.2_x86_64.AppImage" matches the program name "qbittorrent".
    private func appImageMatches(_ lowercasedName: String) -> [Int]? {
        guard lowercasedName.hasSuffix(".appimage") else { return nil }
        let stem = lowercasedName.prefix { $0 != "-" && $0 != "_" && $0 != "." && $0 != " " }
        return byExecutable[String(stem)]
    }

    private func baseName(_ path: String) -> String {
        String(path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "").lowercased()
    }

    private func concretePaths(_ pattern: String, homes: [HomeDirectory]) -> [String] {
        guard pattern.hasPrefix("~/") else { return [pattern] }
        return homes.map { $0.path + "/" + pattern.dropFirst(2) }
    }
}
