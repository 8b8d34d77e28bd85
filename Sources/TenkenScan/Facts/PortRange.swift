/// "tcp/6881-6889" or "udp/4672": a default port an application listens on. Facts vocabulary (a
/// request asks for the owners of sockets on these ports); catalogs are written in it.
public struct PortRange: Sendable, Hashable, CustomStringConvertible {
    public let transport: ListeningSocket.Transport
    public let ports: ClosedRange<UInt16>

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let transport = ListeningSocket.Transport(rawValue: String(parts[0])) else {
            return nil
        }
        let bounds = parts[1].split(separator: "-").map { UInt16($0) }
        guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil, low <= high
        else {
            return nil
        }
        self.transport = transport
        self.ports = low...high
    }

    public var description: String {
        let range = ports.count == 1 ? "\(ports.lowerBound)" : "\(ports.lowerBound)-\(ports.upperBound)"
        return "\(transport.rawValue)/\(range)"
    }

    public func contains(_ socket: ListeningSocket) -> Bool {
        socket.transport == transport && ports.contains(socket.port)
    }
}
