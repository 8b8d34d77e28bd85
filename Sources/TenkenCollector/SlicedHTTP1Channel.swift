import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 channel with what TLS decrypts handed to the HTTP decoder a few
/// kilobytes at a time, and nothing more once the connection is closed. The decoder decodes all
/// it is given at once: a client pipelining requests it never reads the answers to had every
/// request of each read decoded (thousands a connection, seconds of the event loops for 200
/// connections) before `PipelineLimit` could close it after its 16th.
struct SlicedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // Added after TLS's handler (TLSChannel adds it, then sets up this channel) and before the
        // HTTP codec, which the base channel adds next.
        channel.eventLoop.makeCompletedFuture {
            // One read of at most 16 kB each time the connection is ready: a connection that sends
            // without pause gets its turn like every other, and a new one's handshake is not kept
            // waiting behind 4 × 64 kB of each busy one.
            try channel.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
            try channel.syncOptions?.setOption(
                ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16_384))
            try channel.pipeline.syncOperations.addHandler(InboundSlices())
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    /// Passes bytes on in slices of at most `size`, and drops the rest of a read once the channel
    /// is closed (`PipelineLimit` or a deadline closed it while the decoder worked on a slice).
    final class InboundSlices: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        static let size = 4096

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            guard buffer.readableBytes > Self.size else { return context.fireChannelRead(data) }
            while buffer.readableBytes > 0, context.channel.isActive,
                let slice = buffer.readSlice(length: min(Self.size, buffer.readableBytes))
            {
                context.fireChannelRead(wrapInboundOut(slice))
            }
        }
    }
}
