import NIOCore
import PluginAPI

extension UDPTransport: SIPTransport {
    /// One socket per event loop on the listener's address (SO_REUSEPORT); a datagram is handled on the loop whose
    /// socket received it.
    @Sendable
    package static func start(
        _ listener: ListenAddress, _ index: Int, _ context: TransportContext
    ) async throws -> any SIPTransport {
        let receive = context.receive
        return try await bind(host: listener.host, port: listener.port, loops: context.loops) { bytes, source, loop in
            receive(bytes, SIPDestination(transport: .udp, address: source, listener: index), loop)
        }
    }
}
