import TenkenBase

/// A path under a `HostRoot` as the kernel stores it: bytes, so a home directory whose name is
/// not UTF-8 (`/home/j\xfcrgen`) can still be opened and walked. `display` is how reports show it.
public struct HostPath: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// The path with bytes that are not UTF-8 shown as \xNN.
    public var display: String { ByteText.display(bytes[...]) }
    public var description: String { display }

    /// This path with `relative` (a "/"-separated path, or one name) below it.
    public func appending(_ relative: String) -> HostPath { appending(bytes: Array(relative.utf8)) }
    public func appending(_ name: FileName) -> HostPath { appending(bytes: name.bytes) }

    private func appending(bytes relative: [UInt8]) -> HostPath {
        if relative.isEmpty { return self }
        return HostPath(bytes: bytes.last == 0x2F ? bytes + relative : bytes + [0x2F] + relative)
    }

    // Hashed as one run of bytes: the synthesized hash feeds the hasher a byte at a time, which
    // was most of the cost of the content source's lookups by path (measured with perf).
    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    public static func == (lhs: HostPath, rhs: HostPath) -> Bool { lhs.bytes == rhs.bytes }

    func withCString<R>(_ body: (UnsafePointer<CChar>) -> R) -> R { FileName(bytes: bytes).withCString(body) }
}
