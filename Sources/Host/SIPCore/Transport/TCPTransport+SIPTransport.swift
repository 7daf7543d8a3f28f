import NIOCore
import PluginAPI

extension TCPTransport: SIPTransport {
    /// A TCP listener, or with `tls` a TLS one presenting its own certificate; outbound connections to TLS peers are
    /// made by the first TLS listener's pool, with the peer's client context.
    package static func start(
        _ listener: ListenAddress, _ index: Int, _ context: TransportContext, tls: Bool
    ) async throws -> any SIPTransport {
        var configuration = Configuration()
        if tls { configuration.tls = context.tls(index) }
        let transport: TransportKind = tls ? .tls : .tcp
        let receive = context.receive
        let loops = context
        return try await listen(
            host: listener.host, port: listener.port, group: context.group, configuration: configuration,
            logger: context.logger
        ) { bytes, source, connection in
            receive(
                bytes, SIPDestination(transport: transport, address: source, listener: index),
                loops.loopIndex(of: connection.eventLoop))
        }
    }

    package func send(_ message: SIPMessage, to address: SocketAddress, from loopIndex: Int) -> EventLoopFuture<Void>? {
        send(message.serialized(), to: address)
    }

    package func send(_ bytes: [UInt8], to address: SocketAddress, from loopIndex: Int) -> EventLoopFuture<Void>? {
        send(bytes, to: address)
    }
}
