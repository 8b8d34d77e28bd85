import Hummingbird
import NIOCore

/// Each request's context, with the client's address for the audit log.
public struct CollectorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's address and port as the audit log records it ("-" when unknown).
    var client: String {
        guard let remoteAddress, let address = remoteAddress.ipAddress else { return "-" }
        return remoteAddress.port.map { "\(address) \($0)" } ?? address
    }
}
