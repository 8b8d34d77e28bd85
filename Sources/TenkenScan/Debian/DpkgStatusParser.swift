import TenkenBase

/// Parses the deb822 stanzas of /var/lib/dpkg/status. It keeps going past damage: every stanza
/// that cannot be trusted becomes a `Problem` with its line number, the rest still count.
public struct DpkgStatusParser {
    /// A stanza that cannot be trusted: the line where the damage is and what is wrong.
    public struct Problem: Sendable, Hashable {
        public let line: Int
        public let message: Localized
    }

    public private(set) var packages: [DebianPackage] = []
    public private(set) var problems: [Problem] = []

    public init(_ bytes: [UInt8]) {
        packages.reserveCapacity(bytes.count / 900)
        var stanza = Stanza(line: 1)
        // The field names of the stanza so far, as ranges of `bytes`: one buffer for the whole file.
        var fieldNames: [Range<Int>] = []
        fieldNames.reserveCapacity(64)
        var lineNumber = 0
        var lineStart = 0
        let count = bytes.count
        while lineStart < count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let line = bytes[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            if lineEnd == count && bytes.last != 0x0A { stanza.endsMidLine = true }
            if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                finish(&stanza)
                stanza = Stanza(line: lineNumber + 1)
                fieldNames.removeAll(keepingCapacity: true)
                continue
            }
            if stanza.isEmpty { stanza.line = lineNumber }
            stanza.lineCount += 1
            let first = line[line.startIndex]
            if first == 0x20 || first == 0x09 {
                // A continuation of a multi-line field: relationship fields may be folded too.
                if stanza.relation != nil { stanza.relation!.value += [0x20] + trim(line) }
                continue
            }
            if first == 0x23 { continue }  // deb822 comment
            check(&stanza)
            // A field name ends at a blank or the colon; only blanks may come between them (dpkg's parser).
            let nameEnd = line.firstIndex { $0 == 0x3A || $0 == 0x20 || $0 == 0x09 } ?? line.endIndex
            let field = line[line.startIndex..<nameEnd]
            guard let colon = line[nameEnd...].firstIndex(where: { $0 != 0x20 && $0 != 0x09 }), line[colon] == 0x3A
            else {
                stanza.damage =
                    stanza.damage
                    ?? Problem(
                        line: lineNumber,
                        message: Localized(
                            ja: "\(lineNumber) 行目: 「フィールド名: 値」の形式ではありません",
                            en: "line \(lineNumber): not a \"Field: value\" line"))
                continue
            }
            if let problem = fieldNameProblem(field, in: bytes, seen: &fieldNames, line: lineNumber) {
                stanza.damage = stanza.damage ?? problem
                continue
            }
            if lineStart >= count && trim(line[(colon + 1)...]).isEmpty {
                // The last line of the file, a name without a value: dpkg says "end of file before
                // value of field" (a file cut short after the name).
                stanza.damage =
                    stanza.damage
                    ?? Problem(
                        line: lineNumber,
                        message: Localized(
                            ja: "\(lineNumber) 行目: \(ByteText.display(field)) の値の前でファイルが終わっています",
                            en: "line \(lineNumber): the file ends before the value of \(ByteText.display(field))"))
                continue
            }
            guard let key = Stanza.Key(field) else {
                if let (name, alternatives) = ControlFieldSyntax.relationField(field) {
                    stanza.relation = (name, alternatives, trim(line[(colon + 1)...]), lineNumber)
                }
                continue
            }
            let rawValue = trim(line[(colon + 1)...])
            guard !rawValue.contains(0), let value = ByteText.utf8(rawValue) else {
                stanza.damage =
                    stanza.damage
                    ?? Problem(
                        line: lineNumber,
                        message: Localized(
                            ja: "\(lineNumber) 行目: \(key.rawValue) の値が UTF-8 ではありません",
                            en: "line \(lineNumber): \(key.rawValue) is not valid UTF-8"))
                continue
            }
            stanza[key] = value
        }
        let problemsBefore = problems.count
        finish(&stanza)
        // dpkg always ends the file with a newline: without one it was cut short, even when the
        // cut fell inside a multi-line Description and every stanza still looks whole.
        if let last = bytes.last, last != 0x0A, problems.count == problemsBefore {
            problems.append(
                Problem(
                    line: lineNumber,
                    message: Localized(
                        ja: "\(lineNumber) 行目: ファイルが行の途中で終わっています (途中で切れている可能性)",
                        en: "line \(lineNumber): the file ends mid-line (truncated?)")))
        }
    }

    /// What dpkg refuses in a field name: none, one starting with "-", one given twice in the stanza
    /// (in any case; a second Package is a missing blank line). Records the name as seen.
    private func fieldNameProblem(
        _ field: ArraySlice<UInt8>, in bytes: [UInt8], seen: inout [Range<Int>], line: Int
    ) -> Problem? {
        var shown: String { ByteText.display(field) }
        if field.isEmpty {
            return Problem(
                line: line, message: Localized(ja: "\(line) 行目: フィールド名が空です", en: "line \(line): empty field name"))
        }
        if field.first == 0x2D {
            return Problem(
                line: line,
                message: Localized(
                    ja: "\(line) 行目: フィールド名 \(shown) が - で始まっています",
                    en: "line \(line): field name \(shown) starts with a hyphen"))
        }
        let isDuplicate = seen.contains { earlier in
            guard earlier.count == field.count else { return false }
            for offset in 0..<earlier.count {
                let byte = bytes[earlier.lowerBound + offset]
                let other = bytes[field.startIndex + offset]
                if byte != other && !Self.foldsEqual(byte, other) { return false }
            }
            return true
        }
        seen.append(field.startIndex..<field.endIndex)
        guard isDuplicate else { return nil }
        return Problem(
            line: line,
            message: Localized(
                ja: "\(line) 行目: \(shown) が重複しています (空行の欠落?)",
                en: "line \(line): duplicate \(shown) field (missing blank line?)"))
    }

    private static func foldsEqual(_ a: UInt8, _ b: UInt8) -> Bool {
        let lower = a | 0x20
        return lower == b | 0x20 && lower >= 0x61 && lower <= 0x7A
    }

    /// Checks the relationship field read last, once its continuation lines are in.
    private func check(_ stanza: inout Stanza) {
        guard let (field, alternatives, value, line) = stanza.relation else { return }
        stanza.relation = nil
        guard stanza.damage == nil,
            let error = ControlFieldSyntax.relationError(value, field: field, alternatives: alternatives)
        else {
            if field == "depends" || field == "pre-depends" { stanza.dependencies += Self.packageNames(in: value) }
            return
        }
        stanza.damage = Problem(
            line: line,
            message: Localized(
                ja: "\(line) 行目: \(field) フィールドを dpkg は読めません (\(error))",
                en: "line \(line): dpkg refuses the \(field) field (\(error))"))
    }

    /// The package names of a relationship value dpkg accepts ("a (>= 1), b:any | c"), lowercased.
    static func packageNames(in value: ArraySlice<UInt8>) -> [String] {
        var names: [String] = []
        var index = value.startIndex
        while index < value.endIndex {
            while index < value.endIndex, value[index] == 0x20 || value[index] == 0x09 { index += 1 }
            let start = index
            while index < value.endIndex, ControlFieldSyntax.isNameByte(value[index]) { index += 1 }
            if index > start {
                names.append(String(decoding: ByteText.asciiLowercased(Array(value[start..<index])), as: UTF8.self))
            }
            // Past the version, architecture or anything else to the next alternative or item.
            while index < value.endIndex, value[index] != 0x2C && value[index] != 0x7C { index += 1 }
            index += 1
        }
        return names
    }

    private mutating func finish(_ stanza: inout Stanza) {
        check(&stanza)
        guard !stanza.isEmpty else { return }
        let problemsBefore = problems.count
        defer {
            // A file that stops mid-line was cut short (full disk, interrupted copy): say so.
            if stanza.endsMidLine && problems.count > problemsBefore {
                let last = problems.removeLast()
                problems.append(
                    Problem(
                        line: last.line,
                        message: Localized(
                            ja: last.message.ja + " — ファイルが行の途中で終わっています (途中で切れている可能性)",
                            en: last.message.en + " — the file ends mid-line (truncated?)")))
            }
        }
        let name = stanza.package ?? ""
        let label = name.isEmpty ? "" : " (\(name))"
        if let damage = stanza.damage {
            problems.append(
                Problem(
                    line: damage.line,
                    message: Localized(
                        ja: damage.message.ja + label, en: damage.message.en + label)))
            return
        }
        guard !name.isEmpty else {
            problems.append(
                Problem(
                    line: stanza.line,
                    message: Localized(
                        ja: "\(stanza.line) 行目からの項目に Package がありません",
                        en: "stanza at line \(stanza.line) has no Package field")))
            return
        }
        if let error = ControlFieldSyntax.packageNameError(name) {
            problems.append(
                Problem(
                    line: stanza.line,
                    message: Localized(
                        ja: "\(stanza.line) 行目からの項目のパッケージ名を dpkg は読めません (\(error))\(label)",
                        en: "stanza at line \(stanza.line): dpkg refuses its package name (\(error))\(label)")))
            return
        }
        let statusWords = stanza.status.map(ControlFieldSyntax.wordCount) ?? 0
        if let status = stanza.status, statusWords == 3, let error = ControlFieldSyntax.statusError(status) {
            problems.append(
                Problem(
                    line: stanza.line,
                    message: Localized(
                        ja: "\(stanza.line) 行目からの項目の Status を dpkg は読めません (\(error))\(label)",
                        en: "stanza at line \(stanza.line): dpkg refuses its Status (\(error))\(label)")))
            return
        }
        if let version = stanza.version, let error = ControlFieldSyntax.versionError(version) {
            problems.append(
                Problem(
                    line: stanza.line,
                    message: Localized(
                        ja: "\(stanza.line) 行目からの項目の Version を dpkg は読めません (\(error))\(label)",
                        en: "stanza at line \(stanza.line): dpkg refuses its Version '\(version)' (\(error))\(label)")))
            return
        }
        guard let status = stanza.status, statusWords == 3 else {
            problems.append(
                Problem(
                    line: stanza.line,
                    message: Localized(
                        ja: "\(stanza.line) 行目からの項目に正しい Status がありません (途中で切れている可能性)\(label)",
                        en: "stanza at line \(stanza.line) has no valid Status field (truncated?)\(label)")))
            return
        }
        // dpkg keeps names in lower case: "QBittorrent" is the package qbittorrent.
        let package = DebianPackage(
            name: String(decoding: ByteText.asciiLowercased(Array(name.utf8)), as: UTF8.self),
            version: stanza.version ?? "",
            architecture: stanza.architecture ?? "", status: status, dependencies: stanza.dependencies)
        if package.isPresent && package.version.isEmpty {
            problems.append(
                Problem(
                    line: stanza.line,
                    message: Localized(
                        ja: "\(stanza.line) 行目からの項目に Version がありません\(label)",
                        en: "stanza at line \(stanza.line) has no Version field\(label)")))
            return
        }
        packages.append(package)
    }

    private func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 || last == 0x0D { slice = slice.dropLast() }
        return slice
    }

    private struct Stanza {
        enum Key: String {
            case package = "Package"
            case status = "Status"
            case version = "Version"
            case architecture = "Architecture"

            init?(_ field: ArraySlice<UInt8>) {
                // deb822 field names are case-insensitive.
                switch field.count {
                case 6 where Key.equal(field, "status"): self = .status
                case 7 where Key.equal(field, "package"): self = .package
                case 7 where Key.equal(field, "version"): self = .version
                case 12 where Key.equal(field, "architecture"): self = .architecture
                default: return nil
                }
            }

            private static func equal(_ field: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
                var index = field.startIndex
                for byte in UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount) {
                    if field[index] | 0x20 != byte { return false }
                    index += 1
                }
                return true
            }
        }

        var line: Int
        var lineCount = 0
        var package: String?
        var status: String?
        var version: String?
        var architecture: String?
        var damage: Problem?
        var endsMidLine = false
        /// The packages named by Depends and Pre-Depends.
        var dependencies: [String] = []
        /// The relationship field being read (lowercased name, whether it may list alternatives, its
        /// value so far, its line), checked when it ends.
        var relation: (field: String, alternatives: Bool, value: ArraySlice<UInt8>, line: Int)?

        subscript(key: Key) -> String? {
            get {
                switch key {
                case .package: return package
                case .status: return status
                case .version: return version
                case .architecture: return architecture
                }
            }
            set {
                switch key {
                case .package: package = newValue
                case .status: status = newValue
                case .version: version = newValue
                case .architecture: architecture = newValue
                }
            }
        }

        var isEmpty: Bool { lineCount == 0 }
    }
}
