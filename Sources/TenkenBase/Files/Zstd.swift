import CCompression

#if canImport(Glibc)
    import Glibc
#endif

/// zstd frames in memory, with the library apt also uses.
public enum Zstd {
    /// Why a frame did not inflate: damaged or cut short, or its content would exceed the limit.
    public enum Failure: Error, Sendable {
        case damaged, tooLarge
    }

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
        try? inflate(bytes, limit: limit).get()
    }

    /// The content of zstd frames, at most `limit` bytes. A single frame that declares its size
    /// (as `compress` makes) is checked against the limit first and inflated in one step;
    /// others are streamed.
    public static func inflate(_ bytes: [UInt8], limit: Int) -> Result<[UInt8], Failure> {
        bytes.withUnsafeBufferPointer { input -> Result<[UInt8], Failure> in
            let declared = tenken_zstd_content_size(input.baseAddress, input.count)
            if declared == -2 { return .failure(.damaged) }
            if declared > limit { return .failure(.tooLarge) }
            if declared >= 0 {
                var status: Int32 = 0
                let content = [UInt8](unsafeUninitializedCapacity: Int(declared)) { output, count in
                    status = tenken_zstd_decompress_exact(
                        input.baseAddress, input.count, output.baseAddress, Int(declared))
                    count = status == 0 ? Int(declared) : 0
                }
                return status == 0 ? .success(content) : .failure(.damaged)
            }
            var output: UnsafeMutablePointer<UInt8>?
            var length = 0
            let status = tenken_decompress(TENKEN_ZSTD, input.baseAddress, input.count, limit, &output, &length)
            guard status == 0, let output else { return .failure(status == -2 ? .tooLarge : .damaged) }
            defer { free(output) }
            return .success(Array(UnsafeBufferPointer(start: output, count: length)))
        }
    }
}
