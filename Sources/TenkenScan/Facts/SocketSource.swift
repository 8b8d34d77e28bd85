import CRootedIO
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP socket in LISTEN state, or a bound UDP socket, from /proc/net/{tcp,tcp6,udp,udp6}.
public struct ListeningSocket: Sendable, Codable, Hashable {
    /// The socket's protocol, as shown in its endpoint.
    public enum Transport: String, Sendable, Codable { case tcp, udp }

    public let transport: Transport
    public let address: String
    public let port: UInt16
    public let uid: UInt32
    public let inode: UInt64
    /// Processes holding the socket; empty when that could not be seen.
    public var pids: [Int32] = []

    public var endpoint: String {
        address.contains(":")
            ? "\(transport.rawValue) [\(address)]:\(port)" : "\(transport.rawValue) \(address):\(port)"
    }
}

/// Lists listening sockets: from the kernel over netlink when scanning "/", else from the /proc/net tables.
public enum SocketSource {
    static let tables: [(file: String, transport: ListeningSocket.Transport, listeningState: String)] = [
        ("/proc/net/tcp", .tcp, "0A"), ("/proc/net/tcp6", .tcp, "0A"),
        ("/proc/net/udp", .udp, "07"), ("/proc/net/udp6", .udp, "07"),
    ]

    static func collect(_ root: HostRoot, into facts: inout HostFacts) {
        for table in tables {
            // The live kernel answers over netlink in microseconds; /proc/net/tcp costs
            // milliseconds even when empty. A mounted image or fixture only has the files.
            if root.isHostRoot, let sockets = try? kernelSockets(table.file) {
                facts.listeningSockets += sockets
                continue
            }
            let bytes: [UInt8]
            do {
                guard let present = try root.readFileIfPresent(table.file, limit: 64 << 20) else { continue }
                bytes = present
            } catch {
                facts.issues.append(.unreadable(.sockets, error))
                continue
            }
            let (sockets, badLines) = parse(bytes, transport: table.transport, listeningState: table.listeningState)
            facts.listeningSockets += sockets
            if let first = badLines.first {
                facts.issues.append(
                    FactIssue(
                        .sockets, .error, .damaged, path: table.file,
                        Localized(
                            ja: "\(table.file): \(first) 行目など \(badLines.count) 行を解釈できません",
                            en: "\(table.file): \(badLines.count) unparsable lines, first at line \(first)")))
            }
        }
    }

    struct NetlinkUnavailable: Error { let errno: Int32 }

    /// The listening sockets of one /proc/net table's family and protocol, from NETLINK_SOCK_DIAG.
    static func kernelSockets(_ table: String) throws -> [ListeningSocket] {
        let isTCP = table.contains("tcp")
        let family = UInt8(table.hasSuffix("6") ? AF_INET6 : AF_INET)
        let states: UInt32 = isTCP ? 1 << 10 : 1 << 7
        var list: UnsafeMutablePointer<tenken_socket>?
        let count = tenken_socket_diag(family, UInt8(isTCP ? IPPROTO_TCP : IPPROTO_UDP), states, &list)
        guard count >= 0, let list else { throw NetlinkUnavailable(errno: errno) }
        defer { free(list) }
        var sockets: [ListeningSocket] = []
        for socket in UnsafeBufferPointer(start: list, count: count) where isTCP || socket.remote_port == 0 {
            let bytes = withUnsafeBytes(of: socket.local_address) { Array($0) }
            let words = stride(from: 0, to: family == UInt8(AF_INET) ? 4 : 16, by: 4).map { start in
                bytes[start..<start + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            sockets.append(
                ListeningSocket(
                    transport: isTCP ? .tcp : .udp, address: format(words),
                    port: socket.local_port, uid: socket.uid, inode: socket.inode))
        }
        return sockets
    }

    /// Parses one /proc/net table; returns the listening sockets and the numbers of bad lines.
    public static func parse(
        _ bytes: [UInt8], transport: ListeningSocket.Transport,
        listeningState: String
    ) -> ([ListeningSocket], [Int]) {
        var sockets: [ListeningSocket] = []
        var bad: [Int] = []
        for (index, line) in bytes.split(separator: 0x0A).enumerated() where index > 0 {
            let fields = line.split(separator: 0x20)
            guard fields.count >= 10, let local = ByteText.utf8(fields[1]), let remote = ByteText.utf8(fields[2]),
                let state = ByteText.utf8(fields[3]), let uid = ByteText.utf8(fields[7]).flatMap({ UInt32($0) }),
                let inode = ByteText.utf8(fields[9]).flatMap({ UInt64($0) }),
                let (address, port) = endpoint(local), endpoint(remote) != nil
            else {
                bad.append(index + 1)
                continue
            }
            let isListening = state == listeningState && (transport == .tcp || endpoint(remote)?.1 == 0)
            if isListening {
                sockets.append(
                    ListeningSocket(transport: transport, address: address, port: port, uid: uid, inode: inode))
            }
        }
        return (sockets, bad)
    }

    /// "0100007F:0016" is 127.0.0.1:22: the address is in the kernel's (little-endian) word order.
    static func endpoint(_ text: String) -> (String, UInt16)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1], radix: 16) else { return nil }
        let hex = Array(parts[0].utf8)
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var words: [UInt32] = []
        for start in stride(from: 0, to: hex.count, by: 8) {
            guard let word = UInt32(String(decoding: hex[start..<start + 8], as: UTF8.self), radix: 16) else {
                return nil
            }
            words.append(word.byteSwapped)  // back to network order
        }
        return (format(words), port)
    }

    /// An address from 32-bit words in network order: one word is IPv4, four are IPv6.
    static func format(_ words: [UInt32]) -> String {
        func dotted(_ value: UInt32) -> String {
            "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
        }
        if words.count == 1 { return dotted(words[0]) }
        if words[0] == 0 && words[1] == 0 && words[2] == 0xFFFF { return "::ffff:" + dotted(words[3]) }
        return compressIPv6(words.flatMap { [String($0 >> 16, radix: 16), String($0 & 0xFFFF, radix: 16)] })
    }

    /// RFC 5952 text: the longest run of two or more zero groups becomes "::".
    static func compressIPv6(_ groups: [String]) -> String {
        var best = (start: -1, length: 0)
        var index = 0
        while index < groups.count {
            guard groups[index] == "0" else {
                index += 1
                continue
            }
            var end = index
            while end < groups.count && groups[end] == "0" { end += 1 }
            if end - index > best.length && end - index >= 2 { best = (index, end - index) }
            index = end
        }
        guard best.start >= 0 else { return groups.joined(separator: ":") }
        let head = groups[..<best.start].joined(separator: ":")
        let tail = groups[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}
