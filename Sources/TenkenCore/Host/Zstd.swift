import CCompression
#if canImport(Glibc)
import Glibc
#endif

/// zstd frames in memory, with the library apt also uses.
public enum Zstd {
    public static func compress(_ bytes: [UInt8], level: Int32 = 3) -> [UInt8]? {
        let frame = bytes.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: tenken_zstd_bound(input.count)) { output, count in
                count = tenken_zstd_compress(input.baseAddress, input.count, level, output.baseAddress, output.count)
            }
        }
        return frame.isEmpty ? nil : frame
    }

    /// nil for a damaged frame or output beyond `limit` bytes.
    public static func decompress(_ bytes: [UInt8], limit: Int) -> [UInt8]? {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { tenken_decompress(TENKEN_ZSTD, $0.baseAddress, $0.count, limit, &output, &length) }
        guard status == 0, let output else { return nil }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }
}
