import TenkenBase

/// A file found where programs live: PATH directories, /opt, home directories (AppImages,
/// ~/.local/bin) and the drive_c of Wine prefixes (Windows .exe files).
public struct ExecutableFile: Sendable, Hashable {
    /// Which kind of place the file was found in: a PATH directory, /opt, a home directory or a Wine prefix.
    public enum Location: String, Sendable, Codable {
        case systemPath = "system-path"
        case opt, home
        case winePrefix = "wine-prefix"
    }

    /// The directory, as shown in evidence; the full path is built only when a file is reported.
    public let directory: String
    public let name: FileName
    public let location: Location

    public init(directory: String, name: FileName, location: Location) {
        self.directory = directory
        self.name = name
        self.location = location
    }

    public var path: String { directory.hasSuffix("/") ? directory + name.display : directory + "/" + name.display }
}

/// Finds program files in the PATH directories, /opt, home directories and Wine prefixes, each walk bounded.
public enum ExecutableSource {
    static let systemPaths = [
        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
        "/usr/games", "/usr/local/games", "/snap/bin",
    ]
    /// Where people drop downloaded programs, including the Japanese XDG names.
    static let homePlaces: [(path: String, depth: Int)] = [
        ("", 1), ("bin", 1), (".local/bin", 1), ("Applications", 2), ("Downloads", 2), ("Desktop", 2),
        ("ダウンロード", 2), ("デスクトップ", 2), ("opt", 3), (".local/opt", 3),
    ]
    /// Wine prefixes: the default one and those made by PlayOnLinux, Bottles and winetricks.
    static let winePrefixParents = [
        ".local/share/wineprefixes", ".PlayOnLinux/wineprefix",
        ".local/share/bottles/bottles",
        ".var/app/com.usebottles.bottles/data/bottles/bottles",
    ]
    /// Levels below drive_c that a Wine prefix is walked: per-user installs sit nine deep.
    static let wineDepth = 12
    /// A bound on any one walk, so a hostile tree cannot make the scan run forever (the request
    /// may set another); reaching it leaves the walk incomplete.
    static let maximumEntriesPerWalk = 2_000_000

    static func collect(_ root: HostRoot, request: HostFacts.Request, into facts: inout HostFacts) {
        var walker = Walker(root: root, limit: request.walkEntryLimit ?? maximumEntriesPerWalk)
        for path in systemPaths where !isMergedUsrLink(root, path) {
            walker.walk(path, depth: 1, location: .systemPath)
        }
        walker.walk("/opt", depth: 3, location: .opt)
        for home in facts.homes {
            for place in homePlaces {
                let path = place.path.isEmpty ? home.path : home.path + "/" + place.path
                walker.walk(path, depth: place.depth, location: .home)
            }
            for prefix in winePrefixes(root, home: home.path) {
                // Deep enough for per-user installs: drive_c/users/NAME/AppData/Local/Programs/VENDOR/APP/bin/x.exe.
                walker.walk(prefix + "/drive_c", depth: wineDepth, location: .winePrefix, skipping: ["windows"])
            }
        }
        facts.executables = walker.found
        facts.issues += walker.issues
    }

    /// On merged-/usr systems /bin is a symlink to usr/bin: reading both would list every file twice.
    private static func isMergedUsrLink(_ root: HostRoot, _ path: String) -> Bool {
        guard ["/bin", "/sbin"].contains(path), let top = try? root.directory("/") else { return false }
        return (try? top.status(FileName(String(path.dropFirst()))).mode & 0o170000) == 0o120000
    }

    private static func winePrefixes(_ root: HostRoot, home: String) -> [String] {
        var prefixes = [home + "/.wine"]
        for parent in winePrefixParents {
            guard let directory = try? root.directoryIfPresent(home + "/" + parent),
                let entries = try? directory.entries()
            else { continue }
            for entry in entries where entry.kind == .directory {
                prefixes.append(directory.childPath(entry.name))
            }
        }
        return prefixes.filter { root.exists($0 + "/drive_c") }
    }

    private struct Walker {
        let root: HostRoot
        var found: [ExecutableFile] = []
        var issues: [FactIssue] = []
        var visited = Set<String>()
        let limit: Int

        init(root: HostRoot, limit: Int) {
            self.root = root
            self.limit = limit
        }

        mutating func walk(_ path: String, depth: Int, location: ExecutableFile.Location, skipping: Set<String> = []) {
            guard visited.insert(path).inserted else { return }
            do {
                guard let directory = try root.directoryIfPresent(path) else { return }
                var budget = limit
                try walk(directory, depth: depth, location: location, skipping: skipping, budget: &budget)
                if budget < 0 {
                    issues.append(
                        FactIssue(
                            .files, .error, .cutShort, path: path,
                            Localized(
                                ja: "\(path): 項目が多すぎるため \(limit) 件で走査を打ち切りました",
                                en: "\(path): stopped after \(limit) entries")))
                }
            } catch {
                issues.append(.unreadable(.files, error))
            }
        }

        private mutating func walk(
            _ directory: Directory, depth: Int, location: ExecutableFile.Location,
            skipping: Set<String>, budget: inout Int
        ) throws(HostReadError) {
            for entry in try directory.entries() {
                budget -= 1
                if budget < 0 { return }
                switch entry.kind {
                case .file, .symlink:
                    if location == .winePrefix && !entry.name.asciiLowercased.hasSuffix(".exe") { continue }
                    found.append(ExecutableFile(directory: directory.path, name: entry.name, location: location))
                case .directory where depth > 1 && !skipping.contains(entry.name.asciiLowercased):
                    do {
                        // Only drive_c's own windows/ is skipped: one deeper down may hide a program.
                        try walk(
                            directory.subdirectory(entry.name), depth: depth - 1, location: location,
                            skipping: [], budget: &budget)
                    } catch  where error.reason == .permissionDenied {
                        // A program could be in there: the walk is incomplete, as for a top-level directory.
                        issues.append(.unreadable(.files, error))
                    }
                default:
                    continue
                }
            }
        }
    }
}
