import Foundation
import Logging
import NIOCore
import NIOPosix
import PluginAPI

/// One UDP listener spread over every event loop: each loop binds its own socket to the same address with
/// SO_REUSEPORT, so the kernel spreads datagrams over the cores and no socket is shared between threads. The loop that
/// received a datagram reads its Call-ID and hands it to the shard that owns its call, which parses it
/// (`Engine.dispatch`).
///
/// Reading goes through NIO. Sending, on a socket's own loop, does not: the datagram is written into the loop's
/// scratch buffer and handed to the kernel with one `sendto` on the socket NIO reads from. NIO's write path (a
/// ByteBuffer, an envelope and a pending-write queue per datagram, and a pipeline walk) cost about 4 % of the
/// router's CPU under load, and a system call here costs about 0.1 us, so batching with `sendmmsg` gained nothing
/// (measured under `make bench-load`, docs/benchmarks-history.md). NIO's path stays for what the kernel cannot take
/// now (a full send buffer) and for sends from other threads.
final class UDPTransport: Sendable {
    package let host: String
    package let port: Int
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

    package static func bind(
        host: String, port: Int, loops: [any EventLoop],
        onDatagram: @escaping @Sendable (_ bytes: [UInt8], _ source: SocketAddress, _ loopIndex: Int) -> Void
    ) async throws -> UDPTransport {
        // The first socket binds the port asked for (0 picks one); the others share the port it got.
        var channels: [any Channel] = []
        var handlers: [DatagramHandler] = []
        var address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        for (index, loop) in loops.enumerated() {
            let channel: any Channel
            do {
                // The socket is made here rather than by NIO's bootstrap so that its descriptor is known for `sendto`.
                let socket = try Self.boundSocket(address)
                let handler = DatagramHandler(loopIndex: index, socket: socket, onDatagram: onDatagram)
                handlers.append(handler)
                channel = try await DatagramBootstrap(group: loop)
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
                    .withBoundSocket(socket).get()
            } catch {
                // A loop's socket that failed is closed (by `boundSocket`, or by NIO with the channel it made of it);
                // the loops bound before it are closed here, so a failed start leaves no socket on the port.
                for c in channels { try? await c.close() }
                throw error
            }
            if index == 0, let bound = channel.localAddress { address = bound }
            channels.append(channel)
        }
        return UDPTransport(host: host, port: address.port ?? port, channels: channels, handlers: handlers)
    }

    /// A non-blocking UDP socket bound to `address`, shareable with the other loops' sockets (SO_REUSEPORT).
    private static func boundSocket(_ address: SocketAddress) throws -> CInt {
        let family = address.protocol.rawValue
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        func failed(_ reason: String) -> IOError {
            let code = errno
            Glibc.close(fd)
            return IOError(errnoCode: code, reason: reason)
        }
        var one: CInt = 1
        let size = socklen_t(MemoryLayout<CInt>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size) == 0,
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, size) == 0
        else { throw failed("setsockopt") }
        guard address.withSockAddr({ Glibc.bind(fd, $0, socklen_t($1)) }) == 0 else {
            throw failed("bind to \(address)")
        }
        return fd
    }

    /// Sends from the socket of the given loop (any works: they share the address). A datagram's loss is not
    /// reported: nil (`SIPTransport`).
    @discardableResult
    package func send(_ bytes: [UInt8], to destination: SocketAddress, from loopIndex: Int) -> EventLoopFuture<Void>? {
        send(to: destination, from: loopIndex, capacity: bytes.count) { $0.writeBytes(bytes) }
        return nil
    }

    /// Sends `message`, serialised straight into the datagram's buffer.
    @discardableResult
    package func send(_ message: SIPMessage, to destination: SocketAddress, from loopIndex: Int) -> EventLoopFuture<
        Void
    >? {
        send(to: destination, from: loopIndex, capacity: message.serializedByteCount) { buffer in
            message.serialize(text: { buffer.writeString($0) }, octets: { buffer.writeBytes($0) })
        }
        return nil
    }

    private func send(
        to destination: SocketAddress, from loopIndex: Int, capacity: Int, _ write: (inout ByteBuffer) -> Void
    ) {
        let index = loopIndex % channels.count
        let channel = channels[index]
        if channel.eventLoop.inEventLoop, channel.isWritable,
            handlers[index].sendNow(to: destination, capacity: capacity, write)
        {
            return
        }
        var buffer = channel.allocator.buffer(capacity: capacity)
        write(&buffer)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: buffer), promise: nil)
    }

    package func close() async {
        for c in channels { try? await c.close() }
    }
}

/// What a `sendto` that did not take the whole datagram leaves to do.
enum DirectSendFailure: Equatable {
    /// Interrupted by a signal before anything was sent: try again.
    case retry
    /// The socket's send buffer is full for now: NIO queues the datagram and sends it when the socket is writable.
    case queue
    /// The datagram cannot go (too large, no route, a destination of the other address family): dropped, as NIO
    /// drops it. UDP loses datagrams anyway; the transaction layer retransmits or times out.
    case drop

    package init(errno code: CInt) {
        switch code {
        case EINTR: self = .retry
        case EAGAIN, EWOULDBLOCK, ENOBUFS: self = .queue
        default: self = .drop
        }
    }
}

// @unchecked: `open` and `scratch` are read and written only on the channel's event loop (the pipeline's callbacks,
// and `UDPTransport.send` after checking `inEventLoop`); `socket` and the rest never change.
private final class DatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    package typealias InboundIn = AddressedEnvelope<ByteBuffer>

    package let loopIndex: Int
    /// The descriptor NIO reads from; valid while `open`, since NIO closes it on the channel's loop.
    let socket: CInt
    let onDatagram: @Sendable ([UInt8], SocketAddress, Int) -> Void
    /// Between the channel's registration and its close.
    private var open = false
    /// Where datagrams are written before `sendto`; kept from one send to the next, so it is allocated once.
    private var scratch = ByteBufferAllocator().buffer(capacity: 4096)

    package init(loopIndex: Int, socket: CInt, onDatagram: @escaping @Sendable ([UInt8], SocketAddress, Int) -> Void) {
        self.loopIndex = loopIndex
        self.socket = socket
        self.onDatagram = onDatagram
    }

    func channelActive(context: ChannelHandlerContext) {
        open = true
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        open = false
        context.fireChannelInactive()
    }

    /// On the channel's loop: sends the datagram `write` produces with one `sendto`. False when NIO must send it
    /// instead (the socket is closed or its send buffer full); true when it went, or was dropped as NIO would drop it.
    func sendNow(to destination: SocketAddress, capacity: Int, _ write: (inout ByteBuffer) -> Void) -> Bool {
        guard open else { return false }
        scratch.clear(minimumCapacity: capacity)
        write(&scratch)
        while true {
            let sent = scratch.withUnsafeReadableBytes { bytes in
                destination.withSockAddr { address, length in
                    sendto(socket, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL), address, socklen_t(length))
                }
            }
            if sent >= 0 { return true }
            switch DirectSendFailure(errno: errno) {
            case .retry: continue
            case .queue: return false
            case .drop: return true
            }
        }
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var buffer = envelope.data
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        onDatagram(bytes, envelope.remoteAddress, loopIndex)
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here for UDP; they must not close the listener.
    }
}
