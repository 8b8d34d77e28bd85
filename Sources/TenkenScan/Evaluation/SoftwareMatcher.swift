import TenkenBase

/// Finds catalog applications in host facts. Names compare ASCII case-insensitively: the same
/// program is "TeamViewer" in one place and "teamviewer" in another, and Windows names ignore case.
enum SoftwareMatcher {
    static func evidence(for entries: [CatalogEntry], in index: FactIndex) -> [Evidence] {
        let facts = index.facts
        var found: [Evidence] = []
        var matchedProcesses: [(process: Int, entry: CatalogEntry)] = []
        for entry in entries {
            for name in entry.deb {
                for package in (index.debByName[name] ?? []).map({ facts.debianPackages[$0] }) {
                    found.append(
                        Evidence(
                            source: .dpkg, software: entry.name, item: package.name,
                            version: package.version, detail: package.state))
                }
            }
            for name in entry.snap {
                for snap in (index.snapByName[name] ?? []).map({ facts.snaps[$0] }) {
                    found.append(Evidence(source: .snap, software: entry.name, item: snap.name, version: snap.revision))
                }
            }
            for id in entry.flatpak {
                for app in (index.flatpakByID[id.lowercased()] ?? []).map({ facts.flatpaks[$0] }) {
                    found.append(
                        Evidence(source: .flatpak, software: entry.name, item: app.id, detail: app.installation))
                }
            }
            for file in Set(entry.executables.flatMap { index.programByName[$0.lowercased()] ?? [] }).sorted() {
                found.append(Evidence(source: .file, software: entry.name, item: facts.executables[file].path))
            }
            for file in Set(entry.wine.flatMap { index.programByName[$0.lowercased()] ?? [] }).sorted() {
                // A Windows program in a Wine prefix is said to be one; elsewhere (Downloads) it is a file.
                let program = facts.executables[file]
                found.append(
                    Evidence(
                        source: program.location == .winePrefix ? .wine : .file, software: entry.name,
                        item: program.path))
            }
            for pattern in entry.paths {
                let paths =
                    pattern.hasPrefix("~/") ? facts.homes.map { $0.path(String(pattern.dropFirst(2))) } : [pattern]
                for path in paths where facts.probedPaths[path] == true {
                    found.append(Evidence(source: .path, software: entry.name, item: path))
                }
            }
            for process in processes(of: entry, in: index) { matchedProcesses.append((process, entry)) }
        }
        found += processEvidence(matchedProcesses, entries: entries, facts: facts)
        return found
    }

    /// By executable or argv[0] (Wine runs "C:\...\Winny.exe"); by comm, which holds only the
    /// first 15 bytes of the name, when neither is visible.
    private static func processes(of entry: CatalogEntry, in index: FactIndex) -> [Int] {
        let names = (entry.executables + entry.wine).map { $0.lowercased() }
        var matches = Set(names.flatMap { index.processByName[$0] ?? [] })
        for name in names {
            let command = String(decoding: name.utf8.prefix(15), as: UTF8.self)
            for candidate in index.processByCommand[command] ?? []
            where index.facts.processes[candidate].executable == nil {
                matches.insert(candidate)
            }
        }
        return matches.sorted()
    }

    /// Matched processes with the sockets they listen on; then default ports held by processes
    /// tenken could not see, as suspected evidence.
    private static func processEvidence(
        _ matched: [(process: Int, entry: CatalogEntry)], entries: [CatalogEntry],
        facts: HostFacts
    ) -> [Evidence] {
        var found: [Evidence] = []
        var explained = Set<UInt64>()
        for (index, entry) in matched {
            let process = facts.processes[index]
            let user = facts.identity.userNames[process.uid] ?? String(process.uid)
            found.append(
                Evidence(
                    source: .process, software: entry.name,
                    item: process.executable ?? process.arguments.first ?? process.command,
                    pid: process.pid, user: user,
                    detail: String(process.arguments.joined(separator: " ").prefix(200))))
            for socket in facts.listeningSockets where socket.pids.contains(process.pid) {
                explained.insert(socket.inode)
                found.append(
                    Evidence(source: .socket, software: entry.name, item: socket.endpoint, pid: process.pid, user: user)
                )
            }
        }
        let visible = Set(facts.processes.filter { $0.executable != nil }.map(\.pid))
        for socket in facts.listeningSockets where !explained.contains(socket.inode) {
            // A port held by a process tenken saw and did not match is that process's business.
            guard socket.pids.allSatisfy({ !visible.contains($0) }) else { continue }
            for entry in entries where entry.ports.contains(where: { $0.contains(socket) }) {
                found.append(
                    Evidence(
                        source: .socket, confidence: .weak, software: entry.name, item: socket.endpoint,
                        user: facts.identity.userNames[socket.uid] ?? String(socket.uid),
                        detail: entry.ports.map(\.description).joined(separator: ", ")))
            }
        }
        return found
    }
}
