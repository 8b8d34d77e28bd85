import NIOCore
import NIOHTTPTypes

/// Closes a connection that keeps the collector waiting or holds a slot for nothing:
/// - from accepting it (the TLS handshake included) until a request's head is in (`head`), and
///   from the head until the whole request is in (`body`);
/// - idle after an answer, until the next request's head (`idle`, short: a keep-alive that
///   sends a request every few seconds would otherwise hold its slot for ever);
/// - while the client does not read an answer the collector is writing (`stall`: the socket's
///   buffer full, the channel not writable; a client that pipelines requests and never reads
///   the answers would otherwise hold the connection, and what it sent, for ever);
/// - after `age`, once the answer in hand is written.
/// While the collector is working on an answer, no deadline runs: a slow database write is
/// not the client's.
final class ConnectionDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The limits, in the order a connection meets them.
    struct Limits: Sendable {
        /// Handshake and the first request's head.
        var head: TimeAmount = .seconds(10)
        /// A request's body, up to the 1 MB a report may be.
        var body: TimeAmount = .seconds(60)
        /// An idle keep-alive connection, until the next request's head.
        var idle: TimeAmount = .seconds(5)
        /// An answer the client does not read.
        var stall: TimeAmount = .seconds(10)
        /// A connection's whole life: closed after the answer that passes it.
        var age: TimeAmount = .seconds(300)

        /// The shortest of the limits a timer waits for at most.
        var shortest: TimeAmount { min(head, body, idle, stall) }
    }

    private let limits: Limits
    /// When the client must have sent what it owes; nil while the collector is answering.
    private var deadline: NIODeadline?
    /// When the client must have read what the collector is writing; nil while it keeps up.
    private var stalled: NIODeadline?
    private var opened = NIODeadline.now()
    /// Requests whose answer's end has not been written (more than one when pipelined).
    private var waiting = 0
    /// At most one timer a connection, never more than the shortest limit ahead, so it fires
    /// before any deadline set since; firing early, it looks again. Setting a deadline is then an
    /// assignment, not a timer made and cancelled for each part of each request.
    private var timer: Scheduled<Void>?

    init(limits: Limits) {
        self.limits = limits
    }

    private var due: NIODeadline? {
        switch (deadline, stalled) {
        case (let client?, let reader?): min(client, reader)
        case (let client?, nil): client
        case (nil, let reader?): reader
        case (nil, nil): nil
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        opened = .now()
        set(limits.head, context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        deadline = nil
        stalled = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            waiting += 1
            set(limits.body, context)
        case .body: break
        // The collector's turn: no deadline until it has answered.
        case .end: deadline = nil
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stalled = nil
        } else {
            stalled = .now() + limits.stall
            if timer == nil { schedule(context) }
        }
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        guard NIODeadline.now() - opened < limits.age else {
            // Old enough: this answer is its last.
            let written = promise ?? context.eventLoop.makePromise()
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            return context.write(data, promise: written)
        }
        waiting = max(0, waiting - 1)
        // Idle only once every request has its answer; else the collector's turn goes on.
        if waiting == 0 { set(limits.idle, context) } else { deadline = nil }
        context.write(data, promise: promise)
    }

    private func set(_ limit: TimeAmount, _ context: ChannelHandlerContext) {
        deadline = NIODeadline.now() + limit
        if timer == nil { schedule(context) }
    }

    private func schedule(_ context: ChannelHandlerContext) {
        guard let due else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(deadline: min(due, .now() + limits.shortest)) {
            let deadline = handler.value
            deadline.timer = nil
            guard let due = deadline.due else { return }  // answering: set again after
            if due <= .now() {
                channel.close(promise: nil)
            } else if let context = try? channel.pipeline.syncOperations.context(handler: deadline) {
                deadline.schedule(context)
            }
        }
    }
}
