import PluginAPI
import Routing

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
    /// says 127.0.0.1, which only local peers can reach (the engine warns about it).
    public static func advertisedHost(of listener: PatchbayConfiguration.Listener) -> String {
        let wildcard = listener.host == "0.0.0.0" || listener.host == "::"
        return listener.advertise ?? (wildcard ? "127.0.0.1" : listener.host)
    }

    /// The transport a request to a peer over `transport` goes by, and our port for it.
    func transportAndPort(_ transport: PatchbayConfiguration.Transport?) -> (String, Int) {
        if transport == .tcp, let tcpPort { return ("TCP", tcpPort) }
        if transport == .tls, let tlsPort { return ("TLS", tlsPort) }
        return ("UDP", udpPort)
    }

    /// Our Via for a request sent over `transport`.
    public func via(for transport: PatchbayConfiguration.Transport?, branch: String) -> String {
        let (name, port) = transportAndPort(transport)
        return "SIP/2.0/\(name) \(host):\(port);branch=\(branch);rport"
    }

    /// Our Contact towards a peer reached over `transport`, so its in-dialog requests come back over the same one.
    public func contact(user: String?, for transport: PatchbayConfiguration.Transport?) -> String {
        let (name, port) = transportAndPort(transport)
        let param = name == "UDP" ? "" : ";transport=\(name.lowercased())"
        return "<sip:\(user.map { "\($0)@" } ?? "")\(host):\(port)\(param)>"
    }
}
