import Logging
import NIOConcurrencyHelpers
import NIOCore
import PluginAPI

/// One signalling listener, whatever carries it: what the engine needs to send through it and to close it. The
/// engine holds its listeners by transport (`PatchbayConfiguration.Transport`) in configuration order, and a
/// `SIPDestination` names one of them by that transport and an index.
protocol SIPTransport: AnyObject, Sendable {
    /// The port bound: the configuration's, or the one the kernel picked for port 0.
    var port: Int { get }

    /// Sends `message` from the event loop `loopIndex`. A transport that can tell that delivery failed (a stream
    /// whose connect or write failed) returns a future that fails then, so the transaction fails at once instead of
    /// waiting for Timer B or F; a datagram transport returns nil.
    func send(_ message: SIPMessage, to address: SocketAddress, from loopIndex: Int) -> EventLoopFuture<Void>?

    /// The same for bytes already serialised (a response built from a message that did not parse).
    func send(_ bytes: [UInt8], to address: SocketAddress, from loopIndex: Int) -> EventLoopFuture<Void>?

    func close() async
}

/// What a transport is started with: the loops, where received bytes go, and for TLS its contexts.
struct TransportContext: Sendable {
    var group: any EventLoopGroup
    var loops: [any EventLoop]
    var logger: Logger
    /// Received bytes, from `source`, on the loop with this index.
    var receive: @Sendable (_ bytes: [UInt8], _ source: SIPDestination, _ loopIndex: Int) -> Void
    /// The TLS settings of the TLS listener with this index (server context, and client contexts for peers).
    var tls: @Sendable (_ listenerIndex: Int) -> TCPTransport.TLS

    /// The index of a loop of `loops`, for a stream's connection, whose messages arrive on the connection's loop.
    func loopIndex(of loop: any EventLoop) -> Int {
        loops.firstIndex { $0 === loop } ?? 0
    }
}

/// How each configured transport starts: a new transport is a file of its own in this folder, its case in
/// `PatchbayConfiguration.Transport`, and its line here; the engine loops over the configuration's listeners.
enum TransportRegistry {
    typealias Start =
        @Sendable (
            _ listener: PatchbayConfiguration.Listener, _ index: Int, _ context: TransportContext
        ) async throws -> any SIPTransport

    static let starters: [PatchbayConfiguration.Transport: Start] = [
        .udp: UDPTransport.start,
        .tcp: { listener, index, context in try await TCPTransport.start(listener, index, context, tls: false) },
        .tls: { listener, index, context in try await TCPTransport.start(listener, index, context, tls: true) },
    ]
}
