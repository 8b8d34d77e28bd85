import TenkenBase

/// Reads for the host-control sources. A file or directory that is not there is an absence (the
/// setting is at its default); one that is there but cannot be read is recorded as an `error`
/// issue of the rule family that needed it, so that rule cannot pass on what it did not see.
struct ControlReader {
    let root: HostRoot
    private(set) var issues: [FactIssue] = []

    init(_ root: HostRoot) { self.root = root }

    /// The file's bytes; nil when it is missing, or unreadable (then recorded for `family`).
    mutating func file(_ path: String, for family: FactSource, limit: Int = 1 << 20) -> [UInt8]? {
        do { return try root.readFileIfPresent(path, limit: limit) } catch {
            record(error, for: family)
            return nil
        }
    }

    /// The entries of a directory; none when it is missing, or unreadable (then recorded for `family`).
    mutating func entries(in directory: String, for family: FactSource) -> [Directory.Entry] {
        do { return try root.directoryIfPresent(directory)?.entries() ?? [] } catch {
            record(error, for: family)
            return []
        }
    }

    /// The paths of a directory's entries whose names end in `suffix`, sorted: files and links
    /// to them, or with `directories` the subdirectories.
    mutating func files(
        in directory: String, suffix: String, for family: FactSource,
        directories: Bool = false
    ) -> [String] {
        let kinds: Set<Directory.EntryKind> = directories ? [.directory] : [.file, .symlink]
        return entries(in: directory, for: family).filter { kinds.contains($0.kind) }.map(\.name.display)
            .filter { $0.hasSuffix(suffix) }.sorted().map { directory + "/" + $0 }
    }

    /// A keyfile/INI file; empty when missing or unreadable (then recorded for `family`).
    mutating func ini(_ path: String, for family: FactSource) -> IniFile {
        IniFile(file(path, for: family).map { String(decoding: $0, as: UTF8.self) } ?? "")
    }

    /// Whether the last component exists, as a symlink too (systemd's enablement links point at
    /// unit files that may live elsewhere); an unreadable directory on the way is recorded.
    mutating func linkExists(_ path: String, for family: FactSource) -> Bool {
        let (directory, name) = AtomicFile.split(path)
        return entries(in: directory, for: family).contains { $0.name.display == name }
    }

    mutating func record(_ error: HostReadError, for family: FactSource) {
        issues.append(.unreadable(family, error))
    }

    mutating func add(_ issue: FactIssue) { issues.append(issue) }
}
