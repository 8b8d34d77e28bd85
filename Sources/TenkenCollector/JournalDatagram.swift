#if canImport(Glibc)
    import Glibc
#endif

/// One journal entry sent to journald's native socket (systemd's JOURNAL_NATIVE_PROTOCOL): a
/// datagram of fields. The collector does not link libsystemd (it links the base module only),
/// and sd_journal_send(3) has a fixed socket path, so a test could only reach a journald that is
/// the machine's own; this takes the path, and the tests send to a journald of their own
/// (a journal namespace) and read it back with journalctl.
struct JournalDatagram {
    /// The most bytes of one field's value: a hostile name is cut, never the entry dropped.
    static let largestValue = 4096

    private(set) var bytes: [UInt8] = []

    /// A field name is upper-case letters, digits and "_", not first (journald drops others).
    mutating func append(_ name: String, _ value: String) {
        precondition(
            !name.isEmpty && name.utf8.first != 0x5F
                && name.utf8.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F })
        let value = Array(value.utf8.prefix(Self.largestValue))
        bytes += name.utf8
        if value.contains(0x0A) {
            // A value with a newline is sent with its length (little-endian, 64 bits) instead of "=".
            bytes.append(0x0A)
            withUnsafeBytes(of: UInt64(value.count).littleEndian) { bytes += $0 }
        } else {
            bytes.append(0x3D)
        }
        bytes += value
        bytes.append(0x0A)
    }

    /// What became of an entry.
    enum Delivery {
        case sent
        /// journald cannot take it now (its queue is full, it is restarting): a flood of refused
        /// reports must not make the collector wait for its log.
        case busy
        /// No journald there (the collector was started by hand).
        case absent
    }

    /// Sends the entry without waiting.
    func send(to path: String) -> Delivery {
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return .absent }
        defer { close(socket) }
        guard let address = UnixSocketAddress(path) else { return .absent }
        let sent = address.withSocketAddress { target, length in
            bytes.withUnsafeBytes { body in
                sendto(socket, body.baseAddress, body.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), target, length)
            }
        }
        if sent == bytes.count { return .sent }
        // Only a socket that is not there means no journal; any other failure (a full queue, a
        // journald restarting) is one it cannot take now.
        return errno == ENOENT ? .absent : .busy
    }
}
