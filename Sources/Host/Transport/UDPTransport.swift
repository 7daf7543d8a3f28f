import Foundation
import Logging
import NIOCore
import NIOPosix
import PluginAPI

/// One UDP listener spread over every event loop: each loop binds its own socket to the same address with
/// SO_REUSEPORT, so the kernel spreads datagrams over the cores and no socket is shared between threads. A datagram
/// is parsed on the loop that received it, then handed to the shard that owns its call (`Engine.dispatch`).
final class UDPTransport: Sendable {
    let host: String
    let port: Int
    /// One channel per event loop, in the loops' order.
    let channels: [any Channel]
    /// Each channel's handler, in the same order.
    private let handlers: [DatagramHandler]

    private init(host: String, port: Int, channels: [any Channel], handlers: [DatagramHandler]) {
        self.host = host
        self.port = port
        self.channels = channels
        self.handlers = handlers
    }

    static func bind(
        host: String, port: Int, loops: [any EventLoop],
        onDatagram: @escaping @Sendable (_ bytes: [UInt8], _ source: SocketAddress, _ loopIndex: Int) -> Void
    ) async throws -> UDPTransport {
        let reusePort = ChannelOptions.Types.SocketOption(
            level: NIOBSDSocket.OptionLevel.socket, name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT))
        // The first socket binds the port asked for (0 picks one); the others share the port it got.
        var channels: [any Channel] = []
        var handlers: [DatagramHandler] = []
        var bound = port
        for (index, loop) in loops.enumerated() {
            let handler = DatagramHandler(loopIndex: index, onDatagram: onDatagram)
            handlers.append(handler)
            let channel = try await DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(reusePort, value: 1)
                // Large receive buffers ride out bursts (a load test is a burst) without kernel drops.
                .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
                // NIO reads datagrams into 2048-byte buffers by default and silently truncates longer ones; SIP
                // over UDP may be up to 65,507 bytes (RFC 4475 longreq is 3,515).
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .bind(host: host, port: bound).get()
            if index == 0 { bound = channel.localAddress?.port ?? port }
            channels.append(channel)
        }
        return UDPTransport(host: host, port: bound, channels: channels, handlers: handlers)
    }

    /// Sends from the socket of the given loop (any works: they share the address).
    ///
    /// A send made on that loop while its socket is delivering datagrams (the answers and forwards that handling
    /// them produces) is written now and flushed when the socket has nothing more to read, so that NIO hands the
    /// kernel the datagrams of one read burst in one `sendmmsg`. Any other send is flushed at once.
    func send(_ bytes: [UInt8], to destination: SocketAddress, from loopIndex: Int) {
        send(to: destination, from: loopIndex, capacity: bytes.count) { $0.writeBytes(bytes) }
    }

    /// Sends `message`, serialised straight into the datagram's buffer.
    func send(_ message: SIPMessage, to destination: SocketAddress, from loopIndex: Int) {
        send(to: destination, from: loopIndex, capacity: message.serializedByteCount) { buffer in
            message.serialize(text: { buffer.writeString($0) }, body: { buffer.writeBytes($0) })
        }
    }

    private func send(
        to destination: SocketAddress, from loopIndex: Int, capacity: Int, _ write: (inout ByteBuffer) -> Void
    ) {
        let index = loopIndex % channels.count
        let channel = channels[index]
        var buffer = channel.allocator.buffer(capacity: capacity)
        write(&buffer)
        let envelope = AddressedEnvelope(remoteAddress: destination, data: buffer)
        if channel.eventLoop.inEventLoop, handlers[index].deferFlushWhileReading() {
            channel.write(envelope, promise: nil)
        } else {
            channel.writeAndFlush(envelope, promise: nil)
        }
    }

    func close() async {
        for c in channels { try? await c.close() }
    }
}

// @unchecked: `reading` and `flushPending` are read and written only on the channel's event loop (the pipeline's
// callbacks, and `UDPTransport.send` after checking `inEventLoop`).
private final class DatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let loopIndex: Int
    let onDatagram: @Sendable ([UInt8], SocketAddress, Int) -> Void
    /// Between the first `channelRead` of a read burst and its `channelReadComplete`.
    private var reading = false
    /// A send during this burst wrote without flushing.
    private var flushPending = false

    init(loopIndex: Int, onDatagram: @escaping @Sendable ([UInt8], SocketAddress, Int) -> Void) {
        self.loopIndex = loopIndex
        self.onDatagram = onDatagram
    }

    /// On the channel's loop: whether a send now may leave its flush to the end of the read burst (and if so, it
    /// is booked).
    func deferFlushWhileReading() -> Bool {
        guard reading else { return false }
        flushPending = true
        return true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        let envelope = unwrapInboundIn(data)
        var buffer = envelope.data
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        onDatagram(bytes, envelope.remoteAddress, loopIndex)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here for UDP; they must not close the listener.
    }
}
