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
    /// When the client must have sent what it owes; nil while the collector is answering.
    private var deadline: NIODeadline?
    /// At most one timer a connection, never more than the head limit ahead (the shortest), so
    /// it fires before any deadline set since; firing early, it looks again. Setting a deadline is
    /// then an assignment, not a timer made and cancelled for each part of each request.
    private var timer: Scheduled<Void>?

    init(limits: Limits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        set(limits.head, context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: set(limits.body, context)
        case .body: break
        // The collector's turn: no deadline until it has answered.
        case .end: deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { set(limits.head, context) }
        context.write(data, promise: promise)
    }

    private func set(_ limit: TimeAmount, _ context: ChannelHandlerContext) {
        let due = NIODeadline.now() + limit
        deadline = due
        if timer == nil { schedule(due, context) }
    }

    private func schedule(_ due: NIODeadline, _ context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(deadline: min(due, .now() + limits.head)) {
            let deadline = handler.value
            deadline.timer = nil
            guard let due = deadline.deadline else { return }  // answering: set again after
            if due <= .now() {
                channel.close(promise: nil)
            } else if let context = try? channel.pipeline.syncOperations.context(handler: deadline) {
                deadline.schedule(due, context)
            }
        }
    }
}
