/// The transports a listener or a peer can use (a peer's `transport:`, a listener's `transport:`).
public enum TransportKind: String, Sendable, CaseIterable {
    case udp, tcp, tls
}
