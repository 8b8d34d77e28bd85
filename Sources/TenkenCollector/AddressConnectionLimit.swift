import NIOCore
import Synchronization

/// Connections open at once from one client address (an IPv6 client by its /64, which one host
/// usually has whole), counted across the server: past `limit`, a new connection is closed as
/// it becomes active, before its TLS handshake. With the global cap alone (`MaximumAvailable-
/// Connections`) one host could hold every slot and keep other machines out.
final class AddressConnectionLimit: Sendable {
    let limit: Int
    private let open = Mutex<[[UInt8]: Int]>([:])

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// The handler that counts one connection; a new one for each.
    func handler() -> Handler { Handler(limit: self) }

    /// What connections are counted by: an IPv4 address, or an IPv6 address's first 64 bits.
    static func key(_ address: SocketAddress?) -> [UInt8] {
        switch address {
        case .v4(let v4): withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6): withUnsafeBytes(of: v6.address.sin6_addr) { Array($0.prefix(8)) }
        case .unixDomainSocket, nil: []
        }
    }

    /// Counts a connection from `key`; false when it is one too many (not counted then).
    func open(_ key: [UInt8]) -> Bool {
        open.withLock { open in
            let count = open[key, default: 0]
            guard count < limit else { return false }
            open[key] = count + 1
            return true
        }
    }

    func close(_ key: [UInt8]) {
        open.withLock { open in
            let count = open[key, default: 1] - 1
            open[key] = count > 0 ? count : nil
        }
    }

    /// How many connections `key` has open (for the tests).
    func count(_ key: [UInt8]) -> Int { open.withLock { $0[key, default: 0] } }

    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        private let limit: AddressConnectionLimit
        /// The address counted, once this connection was let in.
        private var counted: [UInt8]?

        init(limit: AddressConnectionLimit) {
            self.limit = limit
        }

        func channelActive(context: ChannelHandlerContext) {
            let key = AddressConnectionLimit.key(context.channel.remoteAddress)
            guard limit.open(key) else {
                context.close(promise: nil)
                return
            }
            counted = key
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            release()
            HeapTrim.soon()
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            release()
        }

        private func release() {
            guard let key = counted else { return }
            counted = nil
            limit.close(key)
        }
    }
}
