#if canImport(Glibc)
    import Glibc
#endif

/// Unbuffered writes to stdout/stderr that finish before the process exits with a status.
public struct FileDescriptorOutput: Sendable {
    public static let standardOutput = FileDescriptorOutput(fd: 1)
    public static let standardError = FileDescriptorOutput(fd: 2)

    let fd: Int32

    public func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }
}
