import TenkenBase

/// The version resource of a Windows program (PE): the names its maker gave it, which a rename
/// of the file does not change. Read from the PE headers, the section table and the resource
/// tree (RT_VERSION, then VS_VERSIONINFO's StringFileInfo), every offset and count bounded.
public struct WindowsVersionInfo: Sendable, Hashable {
    /// The strings kept, by name: ProductName, OriginalFilename, InternalName, CompanyName,
    /// FileDescription.
    public let strings: [String: String]

    static let keptNames: Set<String> = [
        "ProductName", "OriginalFilename", "InternalName", "CompanyName", "FileDescription",
    ]
    /// Icons and bitmaps come before the version resource in large programs: read this much.
    private static let resourceLimit = 32 << 20
    private static let maximumEntries = 256

    static func isPE(_ prefix: [UInt8]) -> Bool { prefix.starts(with: [0x4D, 0x5A]) }

    /// The version strings of the PE file in `window`; nil when it has no version resource.
    /// Damage in the headers is an error naming the file.
    static func read(_ window: FileWindow) throws(HostReadError) -> WindowsVersionInfo? {
        let dos = try window.bytes(at: 0, count: min(64, window.size))
        guard dos.count == 64, let peOffset = ByteFields(bytes: dos, bigEndian: false).count(at: 0x3C, size: 4),
            peOffset <= window.size - 24
        else { throw damaged(window, ja: "DOS ヘッダーが途中で切れています", en: "the DOS header is cut short") }
        let coff = ByteFields(bytes: try window.bytes(at: peOffset, count: 24), bigEndian: false)
        guard coff.bytes.starts(with: [0x50, 0x45, 0, 0]), let sectionCount = coff.count(at: 6, size: 2),
            let optionalSize = coff.count(at: 20, size: 2)
        else { return nil }  // MZ without PE: a DOS program, which has no resources.
        let optionalStart = peOffset + 24
        let optional = ByteFields(
            bytes: try window.bytes(at: optionalStart, count: min(optionalSize, window.size - optionalStart)),
            bigEndian: false)
        // PE32 keeps its data directories at 96, PE32+ at 112; the resource table is the third.
        guard let magic = optional.integer(at: 0, size: 2), magic == 0x10B || magic == 0x20B else {
            throw damaged(window, ja: "オプションヘッダーが不正です", en: "an unknown optional header")
        }
        let directories = magic == 0x10B ? 96 : 112
        guard let directoryCount = optional.count(at: directories - 4, size: 4), directoryCount > 2,
            let resourceAddress = optional.count(at: directories + 16, size: 4),
            let resourceSize = optional.count(at: directories + 20, size: 4), resourceAddress > 0, resourceSize > 0
        else { return nil }
        guard sectionCount <= maximumEntries else {
            throw damaged(window, ja: "セクションが多すぎます", en: "too many sections")
        }
        let sections = ByteFields(
            bytes: try window.bytes(at: optionalStart + optionalSize, count: sectionCount * 40), bigEndian: false)
        var mapping: [(address: Int, size: Int, offset: Int)] = []
        for index in 0..<sectionCount {
            let base = index * 40
            guard let virtualSize = sections.count(at: base + 8, size: 4),
                let address = sections.count(at: base + 12, size: 4),
                let rawSize = sections.count(at: base + 16, size: 4),
                let rawOffset = sections.count(at: base + 20, size: 4)
            else { continue }
            mapping.append((address, min(max(virtualSize, rawSize), rawSize), rawOffset))
        }
        guard
            let section = mapping.first(where: {
                resourceAddress >= $0.address && resourceAddress < $0.address + $0.size
            })
        else { throw damaged(window, ja: "リソースがどのセクションにもありません", en: "the resources lie in no section") }
        let start = section.offset + (resourceAddress - section.address)
        let length = min(resourceSize, section.size - (resourceAddress - section.address), resourceLimit)
        guard start <= window.size, length <= window.size - start else {
            throw damaged(window, ja: "リソースがファイルの外にあります", en: "the resources lie outside the file")
        }
        let resources = try window.bytes(at: start, count: length)
        guard let version = try versionBlock(resources, baseAddress: resourceAddress, window) else { return nil }
        var strings: [String: String] = [:]
        // VS_VERSIONINFO → StringFileInfo → one table per language → the strings.
        for root in blocks(in: version) where root.key == "VS_VERSION_INFO" {
            for info in blocks(in: root.children) where info.key == "StringFileInfo" {
                for table in blocks(in: info.children) {
                    for string in blocks(in: table.children) where string.isText && keptNames.contains(string.key) {
                        let text = utf16(string.value, from: string.value.startIndex).text
                        if !text.isEmpty && strings[string.key] == nil {
                            strings[string.key] = String(text.prefix(200))
                        }
                    }
                }
            }
        }
        return strings.isEmpty ? nil : WindowsVersionInfo(strings: strings)
    }

    /// The VS_VERSIONINFO bytes: type 16 (RT_VERSION), its first name, its first language.
    /// nil when there is no version resource; one whose entries point elsewhere is damage.
    private static func versionBlock(
        _ resources: [UInt8], baseAddress: Int, _ window: FileWindow
    ) throws(HostReadError) -> ArraySlice<UInt8>? {
        let fields = ByteFields(bytes: resources, bigEndian: false)
        func entries(at offset: Int) -> [(id: UInt64, target: Int)] {
            guard let named = fields.count(at: offset + 12, size: 2), let ids = fields.count(at: offset + 14, size: 2)
            else { return [] }
            return (0..<min(named + ids, maximumEntries)).compactMap { index in
                let entry = offset + 16 + index * 8
                guard let id = fields.integer(at: entry, size: 4), let target = fields.count(at: entry + 4, size: 4)
                else { return nil }
                return (id, target)
            }
        }
        guard let type = entries(at: 0).first(where: { $0.id == 16 }) else { return nil }
        let outside = damaged(
            window, ja: "バージョン情報が読める範囲の外を指しています", en: "the version resource points outside the resources")
        guard type.target & 0x8000_0000 != 0,
            let name = entries(at: type.target & 0x7FFF_FFFF).first, name.target & 0x8000_0000 != 0,
            let language = entries(at: name.target & 0x7FFF_FFFF).first, language.target & 0x8000_0000 == 0,
            let dataAddress = fields.count(at: language.target, size: 4),
            let dataSize = fields.count(at: language.target + 4, size: 4), dataAddress >= baseAddress
        else { throw outside }
        let offset = dataAddress - baseAddress
        guard offset <= resources.count, dataSize <= resources.count - offset else { throw outside }
        return resources[offset..<(offset + dataSize)]
    }

    /// One block of a version resource: wLength, wValueLength, wType, a UTF-16 key, its value
    /// and its children, each 32-bit aligned.
    private struct Block {
        let key: String
        let isText: Bool
        let value: ArraySlice<UInt8>
        let children: ArraySlice<UInt8>
    }

    /// The sibling blocks that fill `bytes`, up to the first that does not fit.
    private static func blocks(in bytes: ArraySlice<UInt8>) -> [Block] {
        var found: [Block] = []
        var offset = bytes.startIndex
        while offset + 6 <= bytes.endIndex, found.count < maximumEntries {
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            guard length >= 6, length <= bytes.endIndex - offset else { break }
            let end = offset + length
            let valueLength = Int(bytes[offset + 2]) | Int(bytes[offset + 3]) << 8
            let isText = bytes[offset + 4] == 1
            let keyEnd = utf16(bytes[offset..<end], from: offset + 6).end
            let valueStart = min(align(keyEnd), end)
            // A text value's length counts UTF-16 units; some writers count bytes: kept inside the block.
            let valueEnd = min(valueStart + (isText ? valueLength * 2 : valueLength), end)
            found.append(
                Block(
                    key: utf16(bytes[offset..<end], from: offset + 6).text, isText: isText,
                    value: bytes[valueStart..<valueEnd], children: bytes[min(align(valueEnd), end)..<end]))
            offset = align(end)
        }
        return found
    }

    /// A NUL-terminated UTF-16LE string at `start`, and the index after its NUL.
    private static func utf16(_ bytes: ArraySlice<UInt8>, from start: Int) -> (text: String, end: Int) {
        var units: [UInt16] = []
        var index = start
        while index + 1 < bytes.endIndex {
            let unit = UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
            index += 2
            if unit == 0 { break }
            units.append(unit)
        }
        return (String(decoding: units, as: UTF16.self), index)
    }

    private static func align(_ offset: Int) -> Int { (offset + 3) & ~3 }

    private static func damaged(_ window: FileWindow, ja: String, en: String) -> HostReadError {
        HostReadError(
            path: window.path,
            reason: .refused(Localized(ja: "壊れた Windows プログラム: \(ja)", en: "a damaged Windows program: \(en)")))
    }
}
