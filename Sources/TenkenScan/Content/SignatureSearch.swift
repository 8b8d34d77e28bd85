#if canImport(Glibc)
    import Glibc
#endif

/// Finds which of a set of byte strings occur in a file's data, in one pass: Wu and Manber's
/// multi-pattern search over two-byte blocks. The window of the shortest pattern slides by as
/// many bytes as its last block allows (most blocks of ordinary data occur in no pattern, so it
/// moves most of a window at a time); a block that ends some pattern's prefix is checked in full.
struct SignatureSearch: Sendable {
    struct Pattern: Sendable {
        let bytes: [UInt8]
        /// Counts only with no letter, digit or "_" just before and after it (where its own
        /// first and last bytes are such characters): "output_metadata" holds no "ut_metadata".
        let wholeWord: Bool
    }

    let patterns: [Pattern]
    /// The length every pattern's prefix is compared on: the shortest pattern's.
    private let window: Int
    /// How far the window may move when its last two bytes are a given block (index: the block).
    private let shifts: [UInt8]
    /// For each block that ends a pattern's prefix, the patterns it ends (from `bucketStart`).
    private let bucketStart: [Int32]
    private let bucketPatterns: [Int32]
    /// How much of a chunk's end is read again with the next chunk: the longest pattern and one
    /// byte on each side of it, so every match is seen once with the bytes around it.
    var overlap: Int { (patterns.map(\.bytes.count).max() ?? 1) + 2 }

    /// Patterns shorter than two bytes cannot be searched by block; the catalog refuses them.
    init(_ patterns: [Pattern]) {
        precondition(patterns.allSatisfy { $0.bytes.count >= 2 }, "signatures are at least two bytes")
        self.patterns = patterns
        let window = patterns.map(\.bytes.count).min() ?? 2
        self.window = window
        var shifts = [UInt8](repeating: UInt8(min(window - 1, 255)), count: 1 << 16)
        var buckets = [[Int32]](repeating: [], count: 1 << 16)
        for (index, pattern) in patterns.enumerated() {
            for end in 1..<window {
                let block = Int(pattern.bytes[end - 1]) << 8 | Int(pattern.bytes[end])
                let shift = min(window - 1 - end, 255)
                if shift < Int(shifts[block]) { shifts[block] = UInt8(shift) }
                if shift == 0 { buckets[block].append(Int32(index)) }
            }
        }
        var starts = [Int32](repeating: 0, count: (1 << 16) + 1)
        var flat: [Int32] = []
        for block in 0..<(1 << 16) {
            starts[block] = Int32(flat.count)
            flat += buckets[block]
        }
        starts[1 << 16] = Int32(flat.count)
        self.shifts = shifts
        bucketStart = starts
        bucketPatterns = flat
    }

    /// Marks in `found` (one flag per pattern) each pattern that occurs in `data`. When `data`
    /// continues a chunk before it (`continuesBefore`) or after it (`continuesAfter`), a match
    /// touching that edge is left to the chunk that also holds the byte beyond it.
    func search(_ data: UnsafeRawBufferPointer, found: inout [Bool], continuesBefore: Bool, continuesAfter: Bool) {
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count >= window else { return }
        let count = data.count
        var end = window - 1
        shifts.withUnsafeBufferPointer { shifts in
            while end < count {
                let block = Int(base[end - 1]) << 8 | Int(base[end])
                let shift = Int(shifts[block])
                if shift > 0 {
                    end += shift
                    continue
                }
                let start = end - (window - 1)
                for slot in Int(bucketStart[block])..<Int(bucketStart[block + 1]) {
                    let index = Int(bucketPatterns[slot])
                    guard !found[index] else { continue }
                    let pattern = patterns[index]
                    let length = pattern.bytes.count
                    guard length <= count - start else { continue }
                    if start == 0 && continuesBefore { continue }
                    if start + length == count && continuesAfter { continue }
                    let same = pattern.bytes.withUnsafeBytes { memcmp(base + start, $0.baseAddress!, length) == 0 }
                    guard same else { continue }
                    if pattern.wholeWord {
                        if start > 0, Self.isWordByte(base[start - 1]), Self.isWordByte(pattern.bytes[0]) { continue }
                        if start + length < count, Self.isWordByte(base[start + length]),
                            Self.isWordByte(pattern.bytes[length - 1])
                        {
                            continue
                        }
                    }
                    found[index] = true
                }
                end += 1
            }
        }
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x5F
    }
}
