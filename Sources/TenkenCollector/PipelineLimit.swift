import NIOCore
import NIOHTTPTypes

/// At most `limit` requests of one connection waiting for their answers. HTTP/1.1 lets a client
/// send requests before reading answers, and everything one read of the socket holds is decoded
/// at once: 30 connections that pipelined GET /healthz and never read added 641 MB to the
/// collector. Past the limit the connection is closed and what it sent beyond is dropped
/// unread. No client of the collector pipelines (the agent sends one report at a time, a
/// browser or curl one request a connection); reading stops while an answer waits to be
/// written (Hummingbird's async channel), and `ConnectionDeadline` closes a client that does
/// not read it.
final class PipelineLimit: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limit: Int
    /// Request heads received whose answer's end has not been written.
    private var waiting = 0
    private var closing = false

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        if case .head = unwrapInboundIn(data) {
            waiting += 1
            guard waiting <= limit else {
                closing = true
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { waiting = max(0, waiting - 1) }
        context.write(data, promise: promise)
    }
}
