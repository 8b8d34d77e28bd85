import TenkenBase

/// A file name as the kernel stores it: bytes, not necessarily UTF-8. `display` shows invalid
/// bytes as \xNN so evidence stays exact and printable.
public struct FileName: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    public var isValidUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

    public var display: String { ByteText.display(bytes[...]) }
    public var description: String { display }

    var isDotOrDotDot: Bool { bytes == [0x2E] || bytes == [0x2E, 0x2E] }

    /// Lowercased ASCII letters, other bytes unchanged: catalog matching is ASCII case-insensitive.
    public var asciiLowercased: String { ByteText.display(ByteText.asciiLowercased(bytes)[...]) }

    func withCString<R>(_ body: (UnsafePointer<CChar>) -> R) -> R {
        (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}
