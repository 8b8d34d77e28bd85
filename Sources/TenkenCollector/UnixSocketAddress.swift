#if canImport(Glibc)
    import Glibc
#endif

/// A Unix socket's address (`sockaddr_un`) for a path, for the system calls that take one.
struct UnixSocketAddress {
    private var address = sockaddr_un()

    /// nil when the path does not fit (108 bytes with its terminating zero).
    init?(_ path: String) {
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
    }

    func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}
