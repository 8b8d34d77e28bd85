import TenkenBase

/// Reads one program's content, never running it: for an ELF file its dynamic section (the
/// libraries it links) and then its data ranges for the rules' signatures; any other file is
/// searched whole. One chunk buffer is reused for every file.
struct ProgramInspector {
    let rules: ContentRules
    /// More data than any real program carries; a larger file is not searched to its end, which
    /// is a gap, never a pass.
    static let maximumSearchBytes = 2 << 30
    static let chunkSize = 1 << 20
    private let chunk: UnsafeMutableRawBufferPointer
    /// Bytes searched so far, for the benchmark and the coverage note.
    private(set) var searchedBytes = 0

    init(rules: ContentRules) {
        self.rules = rules
        chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 64)
    }

    func deallocate() { chunk.deallocate() }

    struct Result {
        var format: InspectedProgram.Format
        var linked: [(library: String, engine: Int)] = []
        var signatures: [SignatureID] = []
        var windows: WindowsVersionInfo?

        /// Worth reporting: a mark, or a version resource to compare with the catalog.
        var isMarked: Bool { !linked.isEmpty || !signatures.isEmpty || windows != nil }
    }

    mutating func inspect(_ window: FileWindow) throws(HostReadError) -> Result {
        let head = try window.bytes(at: 0, count: min(64, window.size))
        var result: Result
        var ranges = [0..<window.size]
        if ElfImage.isELF(head) {
            result = Result(format: .elf)
            do {
                let image = try ElfImage(window)
                for library in image.needed {
                    if let engine = rules.engine(linkedAs: library) { result.linked.append((library, engine)) }
                }
                ranges = image.dataRanges
            } catch  where error.isDamage {
                // Headers a loader would refuse still hide nothing from a search of every byte.
                result.format = .other
            }
        } else if WindowsVersionInfo.isPE(head) {
            result = Result(format: .windows)
            do { result.windows = try WindowsVersionInfo.read(window) } catch  where error.isDamage {
                // A damaged resource tree names nothing; the search below still reads every byte.
                result.format = .other
            }
        } else {
            result = Result(format: head.starts(with: [0x23, 0x21]) ? .script : .other)
        }
        let total = ranges.reduce(0) { $0 + $1.count }
        guard total <= Self.maximumSearchBytes else {
            throw HostReadError(path: window.path, reason: .tooLarge(limit: Self.maximumSearchBytes))
        }
        var found = [Bool](repeating: false, count: rules.signatureIDs.count)
        for range in ranges { try search(window, range, &found) }
        result.signatures = zip(rules.signatureIDs, found).filter(\.1).map(\.0)
        return result
    }

    /// Searches `range` chunk by chunk; consecutive chunks overlap by the longest signature, less
    /// one byte, so a signature across a chunk boundary is found.
    private mutating func search(_ window: FileWindow, _ range: Range<Int>, _ found: inout [Bool])
        throws(HostReadError)
    {
        let overlap = rules.search.overlap
        var offset = range.lowerBound
        while offset < range.upperBound {
            let count = min(Self.chunkSize, range.upperBound - offset)
            let buffer = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<count])
            let read = try window.fill(buffer, at: offset)
            searchedBytes += read
            let last = read < count || offset + read >= range.upperBound
            rules.search.search(
                UnsafeRawBufferPointer(rebasing: chunk[0..<read]), found: &found,
                continuesBefore: offset > range.lowerBound, continuesAfter: !last)
            if last { return }
            offset += read - overlap
        }
    }
}

extension HostReadError {
    /// A file whose structure is refused (a damaged header), not one that could not be read.
    var isDamage: Bool {
        if case .refused = reason { return true }
        return false
    }
}
