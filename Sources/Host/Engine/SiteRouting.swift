import Calls
import NIOCore
import Routing
import SIPCore

/// The parts of a site the engine needs per message, resolved once per snapshot: peers' socket addresses and the
/// table that classifies a source address onto a peer.
package struct SiteRouting: Sendable {
    /// Where requests to a peer go, in order: a configured address, or a host name whose servers DNS gives.
    package enum Target: Sendable, Equatable {
        case fixed(SIPDestination)
        case located(SIPLocator.Target)
    }

    /// Each peer's targets; requests try them in order (and a located one's servers in SRV order).
    package var targets: [String: [Target]] = [:]
    /// The first fixed address of each peer, for what needs one address without DNS (TLS names by address).
    package var addresses: [String: SIPDestination] = [:]
    /// Source IP and port -> peer; a peer's entry without a specific port match falls back to `byIP`.
    private var byIPPort: [IPPortKey: String] = [:]
    private var byIP: [IPKey: String] = [:]
    /// Peers' ranges, most specific first: looked at only when no exact address matched.
    private var ranges: [(range: AddressRange, peer: String)] = []
    private var listeners: [PatchbayConfiguration.Listener] = []
    private var interfaces: [String: String] = [:]
    package var problems: [String] = []

    package init(site: Site) {
        listeners = site.configuration.listeners
        let transports = TransportKind.allCases.filter { t in listeners.contains { $0.transport == t } }
        let ipv6 = listeners.contains { LocalAddress.isIPv6($0) }
        let ipv4 = listeners.contains { !LocalAddress.isIPv6($0) }
        for peer in site.configuration.peers {
            interfaces[peer.name] = peer.interface
            for a in peer.addresses {
                if a.isHostName {
                    // RFC 3263 at run time, on a resolver thread (`PeerLocator`): never a blocking lookup here.
                    targets[peer.name, default: []].append(
                        .located(
                            SIPLocator.Target(
                                host: a.host, port: a.portGiven ? a.port : nil,
                                transport: peer.transportGiven ? peer.transport : nil,
                                supported: peer.transportGiven ? [peer.transport] : transports, ipv4: ipv4, ipv6: ipv6))
                    )
                    continue
                }
                guard let address = try? SocketAddress(ipAddress: a.host, port: a.port), let ip = IPKey(address)
                else {
                    problems.append("peer '\(peer.name)': \(a) is not an address")
                    continue
                }
                let destination = SIPDestination(
                    transport: peer.transport, address: address,
                    listener: Self.listener(
                        transport: peer.transport, interface: peer.interface, address: address, listeners))
                targets[peer.name, default: []].append(.fixed(destination))
                if addresses[peer.name] == nil { addresses[peer.name] = destination }
                let key = ip.port(a.port)
                byIPPort[key] = byIPPort[key] ?? peer.name
                // Peers often send from another port than they listen on (TCP, or a separate UDP socket), so the
                // address alone also classifies, unless two peers share it.
                if let other = byIP[ip], other != peer.name { byIP[ip] = "" } else { byIP[ip] = peer.name }
            }
            for range in peer.ranges where !ranges.contains(where: { $0.range == range }) {
                ranges.append((range, peer.name))
            }
        }
        // Stable: among equal prefixes the file's order stays (`check` warns about identical ranges).
        ranges = ranges.enumerated().sorted {
            $0.element.range.prefixLength != $1.element.range.prefixLength
                ? $0.element.range.prefixLength > $1.element.range.prefixLength : $0.offset < $1.offset
        }.map(\.element)
    }

    /// The host names DNS must locate, each once however many peers name it.
    package var locatedNames: Set<SIPLocator.Target> {
        Set(targets.values.joined().compactMap { if case .located(let t) = $0 { t } else { nil } })
    }

    /// A located server's address as a destination of `peer`: over the server's transport, by the peer's
    /// interface or the address family's listener.
    package func destination(
        peer: String, transport: TransportKind, host: String, port: Int
    ) -> SIPDestination? {
        guard let address = try? SocketAddress(ipAddress: host, port: port) else { return nil }
        return SIPDestination(
            transport: transport, address: address,
            listener: Self.listener(transport: transport, interface: interfaces[peer], address: address, listeners))
    }

    /// The index, among the listeners of `transport`, that requests to a peer leave by: its `interface`'s, else
    /// the first of the address's family (a request to an IPv6 peer cannot leave by an IPv4 socket, nor the
    /// reverse), else the first.
    static func listener(
        transport: TransportKind, interface: String?, address: SocketAddress,
        _ listeners: [PatchbayConfiguration.Listener]
    ) -> Int {
        let own = listeners.filter { $0.transport == transport }
        if let interface, let i = own.firstIndex(where: { $0.name == interface }) { return i }
        let v6 = if case .v6 = address { true } else { false }
        return own.firstIndex { LocalAddress.isIPv6($0) == v6 } ?? 0
    }

    func classify(_ source: SocketAddress) -> String? {
        guard let ip = IPKey(source) else { return nil }
        if let port = source.port, let peer = byIPPort[ip.port(port)] { return peer }
        if let peer = byIP[ip], !peer.isEmpty { return peer }
        return ranges.first { $0.range.contains(ip) }?.peer
    }

    /// Whether a peer is configured at this exact address (whatever the port).
    func hasAddress(_ ip: IPKey) -> Bool { byIP[ip] != nil }

    /// Whether any peer is configured at this address (whatever the port) or in a range holding it: such traffic
    /// gets a peer's budget.
    func isPeerAddress(_ ip: IPKey) -> Bool {
        byIP[ip] != nil || (!ranges.isEmpty && ranges.contains { $0.range.contains(ip) })
    }
}
