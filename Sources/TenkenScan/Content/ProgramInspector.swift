import TenkenBase

/// Reads one program's content, never running it: for an ELF file its dynamic section (the
/// libraries it links) and then its data ranges for the rules' signatures; any other file is
/// searched whole; an AppImage's programs are inspected inside its image. One chunk buffer is
/// reused for every file.
final class ProgramInspector {
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

    deinit { chunk.deallocate() }

    struct Result {
        var format: InspectedProgram.Format
        var linked: [(library: String, engine: Int)] = []
        /// Library search paths that name an engine: a hint, weaker than linking it.
        var searchPaths: [(path: String, engine: Int)] = []
        var signatures: [SignatureID] = []
        var windows: WindowsVersionInfo?
        var appImage: AppImageContents?

        /// Worth reporting: a mark, or names to compare with the catalog (a version resource, an
        /// AppImage's desktop entries and programs).
        var isMarked: Bool {
            !linked.isEmpty || !searchPaths.isEmpty || !signatures.isEmpty || windows != nil || appImage != nil
        }
    }

    func inspect(_ window: FileWindow) throws(HostReadError) -> Result {
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
                for path in image.searchPaths {
                    if let engine = rules.engine(searchedIn: path) { result.searchPaths.append((path, engine)) }
                }
                ranges = image.dataRanges
            } catch  where error.isDamage {
                // Headers a loader would refuse still hide nothing from a search of every byte.
                result.format = .other
            }
            // Every place a runtime could put an image is read (a decoy at one hides nothing at
            // another); the runtime is searched, not the compressed images after it.
            let offsets = ElfImage.appImageOffsets(window)
            var images: [Int] = []
            for offset in offsets where try AppImageReader.hasImage(window, at: offset) { images.append(offset) }
            if let first = images.first {
                ranges = ranges.map { $0.clamped(to: 0..<first) }.filter { !$0.isEmpty }
                var contents = AppImageContents()
                for offset in images {
                    let (found, marks) = try AppImageReader.read(window, offset: offset) {
                        inner throws(HostReadError) in try self.inspect(inner)
                    }
                    contents.merge(found)
                    result.merge(marks)
                }
                result.format = .appImage
                result.appImage = contents
            } else if ElfImage.saysAppImage(head), window.size > (offsets.max() ?? 0) {
                // A runtime with something after it that is no image where it looks: unseen. (A bare
                // runtime, with nothing after it, is only a program.)
                throw AppImageReader.unreadable(
                    window.path,
                    Localized(ja: "AppImage のイメージが見つかりません", en: "its SquashFS image is not where its runtime ends"))
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
        let total = ranges.reduce(0) { ElfImage.sum($0, $1.count) }
        guard total <= Self.maximumSearchBytes else {
            throw HostReadError(path: window.path, reason: .tooLarge(limit: Self.maximumSearchBytes))
        }
        // A catalog with engines and no protocols has nothing to search for.
        guard !rules.signatureIDs.isEmpty else { return result }
        var found = [Bool](repeating: false, count: rules.search.patterns.count)
        for range in ranges { try search(window, range, &found) }
        let own = zip(rules.signatureIDs, found).filter(\.1).map(\.0)
        result.signatures = Array(Set(result.signatures + own)).sorted {
            ($0.protocolIndex, $0.signature) < ($1.protocolIndex, $1.signature)
        }
        return result
    }

    /// Searches `range` chunk by chunk; consecutive chunks overlap by the longest signature and
    /// a byte each side, so a signature across a chunk boundary is found with its context. A
    /// file that ends before its range does was cut or rewritten while read: an error, since the
    /// rest went unsearched.
    private func search(_ window: FileWindow, _ range: Range<Int>, _ found: inout [Bool])
        throws(HostReadError)
    {
        let overlap = rules.search.overlap
        var offset = range.lowerBound
        while offset < range.upperBound {
            let count = min(Self.chunkSize, range.upperBound - offset)
            let buffer = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<count])
            let read = try window.fill(buffer, at: offset)
            searchedBytes += read
            guard read == count else {
                throw HostReadError(
                    path: window.path,
                    reason: .refused(
                        Localized(
                            ja: "読み取り中にファイルが短くなりました (点検中に変更された可能性)",
                            en: "the file ended early while it was read (changed during the check?)")))
            }
            let last = offset + read >= range.upperBound
            rules.search.search(
                UnsafeRawBufferPointer(rebasing: chunk[0..<read]), found: &found,
                continuesBefore: offset > range.lowerBound, continuesAfter: !last)
            if last { return }
            offset += read - overlap
        }
    }
}

extension ProgramInspector.Result {
    /// Takes in what an AppImage's programs showed, each mark once.
    mutating func merge(_ inner: ProgramInspector.Result) {
        for item in inner.linked where !linked.contains(where: { $0.library == item.library }) { linked.append(item) }
        for item in inner.searchPaths where !searchPaths.contains(where: { $0.path == item.path }) {
            searchPaths.append(item)
        }
        signatures = Array(Set(signatures + inner.signatures))
        if windows == nil { windows = inner.windows }
    }
}

extension HostReadError {
    /// A file whose structure is refused (a damaged header), not one that could not be read.
    var isDamage: Bool {
        if case .refused = reason { return true }
        return false
    }
}
