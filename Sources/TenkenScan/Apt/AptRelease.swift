/// The header of an archive's InRelease or Release file: which suite a list belongs to and the
/// flags that set apt's default pin priority.
public struct AptRelease: Sendable, Hashable {
    public var origin = ""
    public var label = ""
    public var suite = ""
    public var codename = ""
    /// The release's version number ("12.8"), which `Pin: release v=` matches.
    public var version = ""
    public var notAutomatic = false
    public var butAutomaticUpgrades = false

    public init() {}

    /// Reads the header's one-line fields from the file's bytes. The hash lists that make up most
    /// of a Release file (continuation lines) are skipped without being decoded: a periodic check
    /// reads every Release file again, and the one of Debian's main archive is 150 KB.
    init(_ bytes: [UInt8]) {
        var start = 0
        // InRelease is clearsigned: the header starts after the armor's blank line.
        let armor = Array("-----BEGIN PGP SIGNED MESSAGE-----".utf8)
        if bytes.starts(with: armor), let blank = Self.firstBlankLine(bytes) { start = blank }
        var fields: [String: String] = [:]
        var lineStart = start
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            defer { lineStart = lineEnd + 1 }
            let line = bytes[lineStart..<lineEnd]
            guard let first = line.first else { break }
            if first == UInt8(ascii: "\r") && line.count == 1 { break }
            // Continuation lines belong to the hash lists; comments are not fields.
            if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") || first == UInt8(ascii: "#") { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let key = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            guard Self.fields.contains(key) else { continue }
            fields[key] = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: " \t\r")
        }
        origin = fields["origin"] ?? ""
        label = fields["label"] ?? ""
        suite = fields["suite"] ?? ""
        codename = fields["codename"] ?? ""
        version = fields["version"] ?? ""
        notAutomatic = fields["notautomatic"]?.lowercased() == "yes"
        butAutomaticUpgrades = fields["butautomaticupgrades"]?.lowercased() == "yes"
    }

    private static let fields: Set<String> = [
        "origin", "label", "suite", "codename", "version", "notautomatic", "butautomaticupgrades",
    ]

    /// Where the text after the first empty line starts ("\n\n" or "\n\r\n").
    private static func firstBlankLine(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) {
            let next = newline + 1
            if next < bytes.count && bytes[next] == UInt8(ascii: "\n") { return next + 1 }
            if next + 1 < bytes.count && bytes[next] == UInt8(ascii: "\r") && bytes[next + 1] == UInt8(ascii: "\n") {
                return next + 2
            }
            index = next
        }
        return nil
    }

    /// Debian's and Ubuntu's security archives: "bookworm-security", "jammy-security".
    public var isSecurity: Bool {
        suite.hasSuffix("-security") || codename.hasSuffix("-security") || label == "Debian-Security"
    }

    /// apt's default pin priority without preferences: 1 for NotAutomatic archives
    /// (experimental), 100 if they still get upgrades (backports), else 500.
    public var defaultPriority: Int {
        guard notAutomatic else { return 500 }
        return butAutomaticUpgrades ? 100 : 1
    }

    /// How apt names the archive in `apt list`: the suite, or the codename without one.
    public var name: String { suite.isEmpty ? codename : suite }
}
