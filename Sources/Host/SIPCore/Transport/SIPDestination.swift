import NIOCore

/// Where a message goes or came from: the transport and the remote address. Over a stream transport the address
/// also names the connection (the transport reuses the one the peer opened, RFC 3261 section 18.2.2).
package struct SIPDestination: Sendable, Hashable, CustomStringConvertible {
    package var transport: TransportKind
    package var address: SocketAddress
    /// Which of our listeners of that transport: a response leaves by the socket its request arrived on, so the
    /// peer sees it come from the address it sent to. Requests Patchbay starts use the first.
    package var listener: Int = 0

    package var isReliable: Bool { transport.isReliable }
    package var description: String { "\(transport.rawValue):\(address)" }

    package init(transport: TransportKind, address: SocketAddress, listener: Int = 0) {
        self.transport = transport
        self.address = address
        self.listener = listener
    }
}
