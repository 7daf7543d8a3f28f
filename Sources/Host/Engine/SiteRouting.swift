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
    /// Source IP and port -> peer; a peer's entry without a specific port match falls back to `byIP`.
    private var byIPPort: [IPPortKey: String] = [:]
    private var byIP: [IPKey: String] = [:]
    /// Peers' ranges, most specific first: looked at only when no exact address matched.
    private var ranges: [(range: AddressRange, peer: String)] = []
    /// The same for the servers DNS gave (`locate`): looked at after everything configured.
    private var locatedByIPPort: [IPPortKey: String] = [:]
    private var locatedByIP: [IPKey: String] = [:]
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
                Self.claim(ip, port: a.port, for: peer.name, &byIPPort, &byIP)
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

    /// Peers often send from another port than they listen on (TCP, or a separate UDP socket), so the address
    /// alone also classifies, unless two peers share it; the first peer keeps an address and port two share.
    private static func claim(
        _ ip: IPKey, port: Int, for peer: String, _ byIPPort: inout [IPPortKey: String], _ byIP: inout [IPKey: String]
    ) {
        let key = ip.port(port)
        byIPPort[key] = byIPPort[key] ?? peer
        if let other = byIP[ip], other != peer { byIP[ip] = "" } else { byIP[ip] = peer }
    }

    /// Every destination of `peer` in configuration order: its configured addresses (unless `locatedOnly`) and, for
    /// each of its host names, the addresses of the servers `locations` has for it, in the order `servers` puts
    /// them (DNS's, or one call's SRV order).
    package func destinations(
        of peer: String, in locations: [SIPLocator.Target: SIPLocation], locatedOnly: Bool = false,
        servers: (SIPLocation) -> [SIPLocation.Server] = \.servers
    ) -> [SIPDestination] {
        var all: [SIPDestination] = []
        for target in targets[peer] ?? [] {
            switch target {
            case .fixed(let d): if !locatedOnly { all.append(d) }
            case .located(let name):
                guard let location = locations[name] else { continue }
                for server in servers(location) {
                    for a in server.addresses {
                        if let d = destination(peer: peer, transport: server.transport, host: a, port: server.port) {
                            all.append(d)
                        }
                    }
                }
            }
        }
        return all
    }

    /// Traffic from the servers `locations` gives is their peer's, as from a configured address (address and port,
    /// or the address alone when no configured peer has it and no two located peers share it), checked after
    /// every configured address and range. Replaces what the last answers added.
    package mutating func locate(_ locations: [SIPLocator.Target: SIPLocation]) {
        locatedByIPPort = [:]
        locatedByIP = [:]
        for peer in targets.keys {
            for d in destinations(of: peer, in: locations, locatedOnly: true) {
                guard let ip = IPKey(d.address), let port = d.address.port else { continue }
                Self.claim(ip, port: port, for: peer, &locatedByIPPort, &locatedByIP)
            }
        }
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
        if let peer = ranges.first(where: { $0.range.contains(ip) })?.peer { return peer }
        guard !locatedByIP.isEmpty else { return nil }
        if let port = source.port, let peer = locatedByIPPort[ip.port(port)] { return peer }
        guard byIP[ip] == nil, let peer = locatedByIP[ip], !peer.isEmpty else { return nil }
        return peer
    }

    /// Whether any peer is at this address (whatever the port), configured, in a range holding it or given by
    /// DNS: such traffic gets a peer's budget.
    func isPeerAddress(_ ip: IPKey) -> Bool {
        byIP[ip] != nil || (!ranges.isEmpty && ranges.contains { $0.range.contains(ip) })
            || (!locatedByIP.isEmpty && locatedByIP[ip] != nil)
    }
}
