import Logging
import NIOConcurrencyHelpers
import NIOCore
import PluginAPI

/// One signalling listener, whatever carries it: what the engine needs to send through it and to close it. The
/// engine holds its listeners by transport (`TransportKind`) in configuration order, and a
/// `SIPDestination` names one of them by that transport and an index.
package protocol SIPTransport: AnyObject, Sendable {
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
package struct TransportContext: Sendable {
    package var group: any EventLoopGroup
    package var loops: [any EventLoop]
    package var logger: Logger
    /// Received bytes, from `source`, on the loop with this index.
    package var receive: @Sendable (_ bytes: [UInt8], _ source: SIPDestination, _ loopIndex: Int) -> Void
    /// The TLS settings of the TLS listener with this index (server context, and client contexts for peers).
    package var tls: @Sendable (_ listenerIndex: Int) -> TCPTransport.TLS

    /// The index of a loop of `loops`, for a stream's connection, whose messages arrive on the connection's loop.
    package func loopIndex(of loop: any EventLoop) -> Int {
        loops.firstIndex { $0 === loop } ?? 0
    }

    package init(
        group: any EventLoopGroup, loops: [any EventLoop], logger: Logger,
        receive: @escaping @Sendable (_ bytes: [UInt8], _ source: SIPDestination, _ loopIndex: Int) -> Void,
        tls: @escaping @Sendable (_ listenerIndex: Int) -> TCPTransport.TLS
    ) {
        self.group = group
        self.loops = loops
        self.logger = logger
        self.receive = receive
        self.tls = tls
    }
}

/// How each configured transport starts: a new transport is a file of its own in this folder, its case in
/// `TransportKind`, and its line here; the engine loops over the configuration's listeners.
package enum TransportRegistry {
    package typealias Start =
        @Sendable (
            _ address: ListenAddress, _ index: Int, _ context: TransportContext
        ) async throws -> any SIPTransport

    package static let starters: [TransportKind: Start] = [
        .udp: UDPTransport.start,
        .tcp: { listener, index, context in try await TCPTransport.start(listener, index, context, tls: false) },
        .tls: { listener, index, context in try await TCPTransport.start(listener, index, context, tls: true) },
    ]
}

/// Where a listener binds: the configuration's `listeners` entry as far as a transport needs it.
package struct ListenAddress: Sendable {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
