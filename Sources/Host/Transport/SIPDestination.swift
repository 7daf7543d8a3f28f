import NIOCore

/// Where a message goes or came from: the transport and the remote address. Over a stream transport the address
/// also names the connection (the transport reuses the one the peer opened, RFC 3261 section 18.2.2).
struct SIPDestination: Sendable, Hashable, CustomStringConvertible {
    var transport: PatchbayConfiguration.Transport
    var address: SocketAddress

    var isReliable: Bool { transport != .udp }
    var description: String { "\(transport.rawValue):\(address)" }
}
