import NIOCore
import NIOHTTPTypes

/// Closes a connection that keeps the collector waiting: from accepting it (the TLS handshake
/// included) or from its last answer until a request's head is in, and from the head until the
/// whole request is in. Without it a client that never finishes its handshake, or sends a byte
/// a second, holds a socket forever, and about a thousand of them use up the file limit.
/// While the collector is answering, no deadline runs: a slow database write is not the client's.
final class ConnectionDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The limits, in the order a connection meets them.
    struct Limits: Sendable {
        /// Handshake and request head, or an idle keep-alive connection and the next head.
        var head: TimeAmount = .seconds(10)
        /// A request's body, up to the 1 MB a report may be.
        var body: TimeAmount = .seconds(60)
    }

    private let limits: Limits
    private var timer: Scheduled<Void>?

    init(limits: Limits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(limits.head, context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(limits.body, context)
        case .body: break
        case .end:
            // The collector's turn: no deadline until it has answered.
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(limits.head, context) }
        context.write(data, promise: promise)
    }

    private func arm(_ limit: TimeAmount, _ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
    }
}
