/// The transports a listener or a peer can use (a peer's `transport:`, a listener's `transport:`), and what each
/// one means in the headers Patchbay writes. A new transport is its case here, its `SIPTransport` file and its
/// line in `TransportRegistry`.
public enum TransportKind: String, Sendable, CaseIterable {
    case udp, tcp, tls

    /// The transport in a Via's sent-protocol (`SIP/2.0/UDP`), RFC 3261 section 20.42.
    public var viaName: String {
        switch self {
        case .udp: "UDP"
        case .tcp: "TCP"
        case .tls: "TLS"
        }
    }

    /// Whether the transport delivers reliably, so the transactions do not retransmit (RFC 3261 section 17.1.1.2).
    public var isReliable: Bool { self != .udp }

    /// The Contact URI's `transport` parameter, so a peer's in-dialog requests come back over the same transport;
    /// nil for UDP, the default.
    public var uriParameter: String? {
        switch self {
        case .udp: nil
        case .tcp: "tcp"
        case .tls: "tls"
        }
    }
}
