import PluginAPI
import Routing
import SIPCore

/// Where Patchbay is, as the headers it writes show it: the host and ports in Via, Contact and a B leg's From.
/// The engine's shards and the offline commands write them through this one type, so `patchbay process` prints
/// the same Via and Contact the engine sends.
public struct LocalAddress: Sendable, Equatable {
    public var host: String
    public var udpPort: Int
    public var tcpPort: Int?
    public var tlsPort: Int?

    public init(host: String, udpPort: Int, tcpPort: Int? = nil, tlsPort: Int? = nil) {
        self.host = host
        self.udpPort = udpPort
        self.tcpPort = tcpPort
        self.tlsPort = tlsPort
    }

    /// The configured listeners' view (the engine uses the ports it really bound, which differ only for port 0).
    public init(configuration: PatchbayConfiguration) {
        let listeners = configuration.listeners
        let udp = listeners.first { $0.transport == .udp }
        host = udp.map(Self.advertisedHost(of:)) ?? "127.0.0.1"
        udpPort = udp?.port ?? 5060
        tcpPort = listeners.first { $0.transport == .tcp }?.port
        tlsPort = listeners.first { $0.transport == .tls }?.port
    }

    /// What a listener puts in Via and Contact: its `advertise`, else its host; a wildcard without `advertise`
    /// says its family's loopback (127.0.0.1, [::1]), which only local peers can reach (the engine warns about it).
    /// An IPv6 literal is in brackets, as every header that carries a host wants it (RFC 3261 section 25.1).
    public static func advertisedHost(of listener: PatchbayConfiguration.Listener) -> String {
        let host =
            listener.advertise
            ?? (listener.host == "0.0.0.0" ? "127.0.0.1" : listener.host == "::" ? "::1" : listener.host)
        return bracketed(host)
    }

    /// `host` as a URI or Via writes it: an IPv6 literal in brackets.
    public static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    /// Whether the listener listens on IPv6 (its address is an IPv6 literal or `::`).
    public static func isIPv6(_ listener: PatchbayConfiguration.Listener) -> Bool { listener.host.contains(":") }

    /// Our port for `transport`; a transport Patchbay has no listener for falls back to UDP.
    func transportAndPort(_ transport: TransportKind?) -> (TransportKind, Int) {
        switch transport {
        case .tcp?: if let tcpPort { return (.tcp, tcpPort) }
        case .tls?: if let tlsPort { return (.tls, tlsPort) }
        case .udp?, nil: break
        }
        return (.udp, udpPort)
    }

    /// Our Via for a request sent over `transport`.
    public func via(for transport: TransportKind?, branch: String) -> String {
        let (kind, port) = transportAndPort(transport)
        return "SIP/2.0/\(kind.viaName) \(host):\(port);branch=\(branch);rport"
    }

    /// Our Contact towards a peer reached over `transport`, so its in-dialog requests come back over the same one.
    public func contact(user: String?, for transport: TransportKind?) -> String {
        let (kind, port) = transportAndPort(transport)
        let param = kind.uriParameter.map { ";transport=\($0)" } ?? ""
        return "<sip:\(user.map { "\($0)@" } ?? "")\(host):\(port)\(param)>"
    }
}
