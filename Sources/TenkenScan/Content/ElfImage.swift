import TenkenBase

/// What a program asks the dynamic loader for and where its data lies, read from an ELF file's
/// headers without running it: the libraries it links (DT_NEEDED), its search paths (DT_RPATH,
/// DT_RUNPATH), and the file ranges worth searching for protocol strings. Every table is bounded,
/// so a hostile header cannot make the reader allocate or read without limit.
struct ElfImage {
    /// Libraries the program needs, as the loader is asked for them ("libtorrent-rasterbar.so.2.0").
    let needed: [String]
    /// Directories from DT_RPATH and DT_RUNPATH, as written ("$ORIGIN/../lib").
    let searchPaths: [String]
    /// File ranges that hold data rather than code or debug information: where string constants
    /// live. Without section headers (a stripped-to-the-bone file), the whole file.
    let dataRanges: [Range<Int>]

    static let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
    /// Far more headers and entries than any real program has.
    static let maximumHeaders = 4096
    static let maximumTableBytes = 4 << 20

    static func isELF(_ prefix: [UInt8]) -> Bool { prefix.starts(with: magic) }

    /// Reads the headers of the file in `window`; damage in them is an error naming the file.
    init(_ window: FileWindow) throws(HostReadError) {
        let ident = try window.bytes(at: 0, count: min(64, window.size))
        guard ident.count >= 52, Self.isELF(ident), ident[4] == 1 || ident[4] == 2, ident[5] == 1 || ident[5] == 2
        else { throw Self.damaged(window, ja: "ELF 識別子が不正です", en: "no valid ELF identification") }
        let layout = Layout(is64: ident[4] == 2)
        let header = ByteFields(bytes: ident, bigEndian: ident[5] == 2)
        guard ident.count >= layout.headerSize,
            let programOffset = header.count(at: layout.programOffsetAt, size: layout.word),
            let sectionOffset = header.count(at: layout.sectionOffsetAt, size: layout.word),
            let programSize = header.count(at: layout.programCountAt - 2, size: 2),
            let programCount = header.count(at: layout.programCountAt, size: 2),
            let sectionSize = header.count(at: layout.programCountAt + 2, size: 2),
            let sectionCount = header.count(at: layout.programCountAt + 4, size: 2),
            let namesIndex = header.count(at: layout.programCountAt + 6, size: 2)
        else { throw Self.damaged(window, ja: "ELF ヘッダーが途中で切れています", en: "the ELF header is cut short") }
        let segments = try Self.segments(
            window, layout, header, offset: programOffset, entrySize: programSize, count: programCount)
        let dynamic = try Self.dynamicStrings(window, layout, header, segments: segments)
        needed = dynamic.needed
        searchPaths = dynamic.searchPaths
        dataRanges = try Self.dataRanges(
            window, layout, header, offset: sectionOffset, entrySize: sectionSize, count: sectionCount,
            namesIndex: namesIndex, segments: segments)
    }

    /// Where an AppImage runtime says its image starts: the end of the section header table, or
    /// the end of the last section header's section if later (`appimage_get_elf_size`), read
    /// from the raw header fields, so headers tenken refuses still locate an image. Empty when
    /// the header cannot be read.
    static func appImageOffsets(_ window: FileWindow) -> [Int] {
        guard let ident = try? window.bytes(at: 0, count: min(64, window.size)), ident.count >= 52, isELF(ident)
        else { return [] }
        let layout = Layout(is64: ident[4] == 2)
        let header = ByteFields(bytes: ident, bigEndian: ident[5] == 2)
        guard ident.count >= layout.headerSize,
            let tableOffset = header.count(at: layout.sectionOffsetAt, size: layout.word),
            let entrySize = header.count(at: layout.programCountAt + 2, size: 2),
            let count = header.count(at: layout.programCountAt + 4, size: 2), count > 0
        else { return [] }
        let tableEnd = sum(tableOffset, count * entrySize)
        var offsets = [tableEnd]
        let at = layout.is64 ? (offset: 24, size: 32) : (offset: 16, size: 20)
        if entrySize >= at.size + layout.word,
            let last = try? window.bytes(at: sum(tableOffset, (count - 1) * entrySize), count: at.size + layout.word)
        {
            let fields = ByteFields(bytes: last, bigEndian: header.bigEndian)
            if let start = fields.count(at: at.offset, size: layout.word),
                let size = fields.count(at: at.size, size: layout.word)
            {
                offsets.append(max(tableEnd, sum(start, size)))
            }
        }
        return Array(Set(offsets.filter { $0 > 0 })).sorted()
    }

    /// a + b, or Int.max where that would overflow: header values are anything a file says.
    static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : total
    }

    /// Whether e_ident says this is a type-2 AppImage's runtime ("AI" 2 in its padding).
    static func saysAppImage(_ ident: [UInt8]) -> Bool {
        ident.count > 10 && ident[8...10].elementsEqual([0x41, 0x49, 2])
    }

    /// Field positions of the two ELF classes.
    private struct Layout {
        let is64: Bool
        var word: Int { is64 ? 8 : 4 }
        var headerSize: Int { is64 ? 64 : 52 }
        var programOffsetAt: Int { is64 ? 0x20 : 0x1C }
        var sectionOffsetAt: Int { is64 ? 0x28 : 0x20 }
        /// e_phnum; e_phentsize is just before it, e_shentsize, e_shnum and e_shstrndx after it.
        var programCountAt: Int { is64 ? 0x38 : 0x2C }
        var programEntrySize: Int { is64 ? 56 : 32 }
        var sectionEntrySize: Int { is64 ? 64 : 40 }
        var dynamicEntrySize: Int { is64 ? 16 : 8 }
    }

    /// A PT_LOAD or PT_DYNAMIC program header.
    private struct Segment {
        let type: UInt64
        let offset: Int
        let address: UInt64
        let fileSize: Int

        var fileRange: Range<Int> { offset..<ElfImage.sum(offset, fileSize) }

        /// The file offset of a virtual address this PT_LOAD maps, if it does.
        func fileOffset(of address: UInt64) -> Int? {
            guard type == 1, address >= self.address, address - self.address < UInt64(fileSize) else { return nil }
            let (offset, overflow) = offset.addingReportingOverflow(Int(address - self.address))
            return overflow ? nil : offset
        }
    }

    private static func table(
        _ window: FileWindow, offset: Int, entrySize: Int, count: Int, minimumEntry: Int, what: Localized
    ) throws(HostReadError) -> [UInt8] {
        guard count > 0 else { return [] }
        guard entrySize >= minimumEntry, count <= maximumHeaders, entrySize * count <= maximumTableBytes else {
            throw damaged(
                window, ja: "\(what.ja)の表が不正です (\(entrySize) バイト × \(count) 項目)",
                en: "implausible \(what.en) table (\(count) entries of \(entrySize) bytes)")
        }
        return try window.bytes(at: offset, count: entrySize * count)
    }

    private static func segments(
        _ window: FileWindow, _ layout: Layout, _ header: ByteFields, offset: Int, entrySize: Int, count: Int
    ) throws(HostReadError) -> [Segment] {
        let bytes = try table(
            window, offset: offset, entrySize: entrySize, count: count, minimumEntry: layout.programEntrySize,
            what: Localized(ja: "プログラムヘッダー", en: "program header"))
        let fields = ByteFields(bytes: bytes, bigEndian: header.bigEndian)
        var segments: [Segment] = []
        for index in 0..<count {
            let base = index * entrySize
            let at = layout.is64 ? (offset: 8, address: 16, size: 32) : (offset: 4, address: 8, size: 16)
            guard let type = fields.integer(at: base, size: 4), type == 1 || type == 2,
                let fileOffset = fields.count(at: base + at.offset, size: layout.word),
                let address = fields.integer(at: base + at.address, size: layout.word),
                let fileSize = fields.count(at: base + at.size, size: layout.word)
            else { continue }
            segments.append(
                Segment(
                    type: type, offset: fileOffset, address: address, fileSize: fileSize))
        }
        return segments
    }

    /// DT_NEEDED, DT_RPATH and DT_RUNPATH strings, read as ld.so reads them: the last PT_DYNAMIC,
    /// where its address is loaded, entries up to DT_NULL whatever p_filesz says, and strings
    /// up to their NUL whatever DT_STRSZ says; each read bounded.
    private static func dynamicStrings(
        _ window: FileWindow, _ layout: Layout, _ header: ByteFields, segments: [Segment]
    ) throws(HostReadError) -> (needed: [String], searchPaths: [String]) {
        guard let dynamic = segments.last(where: { $0.type == 2 }) else { return ([], []) }
        let start = segments.lazy.compactMap { $0.fileOffset(of: dynamic.address) }.first ?? dynamic.offset
        guard start < window.size else {
            throw damaged(window, ja: "動的セクションがファイルの外にあります", en: "the dynamic section lies outside the file")
        }
        let length = min(window.size - start, max(dynamic.fileSize, dynamicReadSize), maximumTableBytes)
        let fields = ByteFields(bytes: try window.bytes(at: start, count: length), bigEndian: header.bigEndian)
        var strings: [(tag: UInt64, offset: Int)] = []
        var tableAddress: UInt64?
        var entry = 0
        reading: while entry + layout.dynamicEntrySize <= length {
            guard let tag = fields.integer(at: entry, size: layout.word),
                let value = fields.integer(at: entry + layout.word, size: layout.word)
            else { break }
            entry += layout.dynamicEntrySize
            switch tag {
            case 0: break reading  // DT_NULL ends the table.
            case 1, 15, 29: if value <= UInt64(Int.max) { strings.append((tag, Int(value))) }
            case 5: tableAddress = value
            default: continue
            }
        }
        guard !strings.isEmpty else { return ([], []) }
        guard let tableAddress, let table = segments.lazy.compactMap({ $0.fileOffset(of: tableAddress) }).first
        else {
            throw damaged(
                window, ja: "動的文字列表がないかファイルの外にあります",
                en: "the dynamic string table is missing or outside the file")
        }
        var needed: [String] = []
        var searchPaths: [String] = []
        for (tag, offset) in strings {
            let at = sum(table, offset)
            guard at < window.size else {
                throw damaged(
                    window, ja: "動的項目が文字列表の外を指しています", en: "a dynamic entry points past its string table")
            }
            let bytes = try window.bytes(at: at, count: min(longestDynamicString, window.size - at))
            let text = ByteText.display(bytes.prefix { $0 != 0 }[...])
            if tag == 1 {
                needed.append(text)
            } else {
                searchPaths += text.split(separator: ":").map(String.init)
            }
        }
        return (needed, searchPaths)
    }

    /// Enough for any real dynamic table; one longer than p_filesz is read this far.
    private static let dynamicReadSize = 16 << 10
    private static let longestDynamicString = 4096

    /// The whole file less its debug information (most of an unstripped program): string
    /// constants are in what remains, wherever a linker or packer put them. Section headers are
    /// not what the loader reads, so a section is skipped only where nothing is loaded from it:
    /// a section marked as code is searched all the same (one flag would otherwise hide .rodata).
    private static func dataRanges(
        _ window: FileWindow, _ layout: Layout, _ header: ByteFields, offset: Int, entrySize: Int, count: Int,
        namesIndex: Int, segments: [Segment]
    ) throws(HostReadError) -> [Range<Int>] {
        let bytes = try table(
            window, offset: offset, entrySize: entrySize, count: count, minimumEntry: layout.sectionEntrySize,
            what: Localized(ja: "セクションヘッダー", en: "section header"))
        guard !bytes.isEmpty else { return [0..<window.size] }
        let fields = ByteFields(bytes: bytes, bigEndian: header.bigEndian)
        let at = layout.is64 ? (flags: 8, offset: 24, size: 32) : (flags: 8, offset: 16, size: 20)
        func section(_ index: Int) -> (name: Int, type: UInt64, flags: UInt64, range: Range<Int>)? {
            let base = index * entrySize
            guard let name = fields.count(at: base, size: 4), let type = fields.integer(at: base + 4, size: 4),
                let flags = fields.integer(at: base + at.flags, size: layout.word),
                let start = fields.count(at: base + at.offset, size: layout.word),
                let size = fields.count(at: base + at.size, size: layout.word),
                start <= window.size, size <= window.size - start
            else { return nil }
            // SHT_NOBITS (.bss) occupies no bytes of the file.
            return (name, type, flags, type == 8 ? start..<start : start..<(start + size))
        }
        var names: [UInt8] = []
        if namesIndex < count, let table = section(namesIndex), table.range.count <= maximumTableBytes {
            names = try window.bytes(at: table.range.lowerBound, count: table.range.count)
        }
        let loaded = segments.filter { $0.type == 1 }.map(\.fileRange)
        var skipped: [Range<Int>] = []
        for index in 0..<count {
            guard let entry = section(index), !entry.range.isEmpty else { continue }
            let isDebug =
                entry.flags & 0x2 == 0 && entry.name < names.count
                && names[entry.name...].starts(with: Array(".debug_".utf8))
                && !loaded.contains { $0.overlaps(entry.range) }
            if isDebug { skipped.append(entry.range) }
        }
        return Self.complement(of: skipped, in: 0..<window.size)
    }

    /// `whole` less `ranges`, in order.
    static func complement(of ranges: [Range<Int>], in whole: Range<Int>) -> [Range<Int>] {
        var kept: [Range<Int>] = []
        var next = whole.lowerBound
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if range.lowerBound > next { kept.append(next..<min(range.lowerBound, whole.upperBound)) }
            next = max(next, range.upperBound)
        }
        if next < whole.upperBound { kept.append(next..<whole.upperBound) }
        return kept
    }

    private static func damaged(_ window: FileWindow, ja: String, en: String) -> HostReadError {
        HostReadError(
            path: window.path, reason: .refused(Localized(ja: "壊れた ELF ファイル: \(ja)", en: "a damaged ELF file: \(en)")))
    }
}
