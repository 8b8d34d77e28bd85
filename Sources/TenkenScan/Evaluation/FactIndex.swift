/// Host facts keyed the way catalogs look things up, built once per evaluation so each rule
/// does hash lookups for its catalog names instead of re-reading every fact.
struct FactIndex {
    let facts: HostFacts
    private(set) var debByName: [String: [Int]] = [:]
    private(set) var snapByName: [String: [Int]] = [:]
    private(set) var flatpakByID: [String: [Int]] = [:]
    /// Program files by lowercased name, Windows programs (found in a Wine prefix or not) too;
    /// AppImages also by name stem.
    private(set) var programByName: [String: [Int]] = [:]
    /// Processes by lowercased executable base name, argv[0] base name and comm.
    private(set) var processByName: [String: [Int]] = [:]
    private(set) var processByCommand: [String: [Int]] = [:]

    init(_ facts: HostFacts) {
        self.facts = facts
        for (index, package) in facts.debianPackages.enumerated() where package.isPresent {
            debByName[package.name, default: []].append(index)
        }
        for (index, snap) in facts.snaps.enumerated() { snapByName[snap.name, default: []].append(index) }
        for (index, app) in facts.flatpaks.enumerated() { flatpakByID[app.id.lowercased(), default: []].append(index) }
        for (index, file) in facts.executables.enumerated() {
            let name = file.name.asciiLowercased
            programByName[name, default: []].append(index)
            if name.hasSuffix(".appimage") {
                // "qBittorrent-4.6.2_x86_64.AppImage" is the program "qbittorrent".
                let stem = String(name.prefix { $0 != "-" && $0 != "_" && $0 != "." && $0 != " " })
                if stem != name { programByName[stem, default: []].append(index) }
            }
        }
        for (index, process) in facts.processes.enumerated() {
            var names = Set<String>()
            if let executable = process.executable {
                names.insert(FactNames.baseName(executable))
            }
            if let first = process.arguments.first { names.insert(FactNames.baseName(first)) }
            for name in names { processByName[name, default: []].append(index) }
            processByCommand[process.command.lowercased(), default: []].append(index)
        }
    }
}
