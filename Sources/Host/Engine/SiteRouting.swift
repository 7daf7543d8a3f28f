import Calls
import NIOCore
import Routing
import SIPCore

/// The parts of a site the engine needs per message, resolved once per snapshot: peers' socket addresses and the
/// table that classifies a source address onto a peer.
package struct SiteRouting: Sendable {
    /// Where requests to each peer go (its first address).
    package var addresses: [String: SIPDestination] = [:]
    /// Source IP and port -> peer; a peer's entry without a specific port match falls back to `byIP`.
    private var byIPPort: [IPPortKey: String] = [:]
    private var byIP: [IPKey: String] = [:]
    /// Peers' ranges, most specific first: looked at only when no exact address matched.
    private var ranges: [(range: AddressRange, peer: String)] = []
    package var problems: [String] = []

    package init(site: Site) {
        for peer in site.configuration.peers {
            for (i, a) in peer.addresses.enumerated() {
                guard let address = try? SocketAddress.makeAddressResolvingHost(a.host, port: a.port),
                    let ip = IPKey(address)
                else {
                    problems.append("peer '\(peer.name)': cannot resolve \(a)")
                    continue
                }
                if i == 0 {
                    addresses[peer.name] = SIPDestination(
                        transport: peer.transport, address: address,
                        listener: Self.listener(for: peer, address: address, site.configuration.listeners))
                }
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

    /// The index, among the listeners of the peer's transport, that requests to the peer leave by: its
    /// `interface`'s, else the first of the address's family (a request to an IPv6 peer cannot leave by an IPv4
    /// socket, nor the reverse), else the first.
    static func listener(
        for peer: PatchbayConfiguration.Peer, address: SocketAddress, _ listeners: [PatchbayConfiguration.Listener]
    ) -> Int {
        let own = listeners.filter { $0.transport == peer.transport }
        if let name = peer.interface, let i = own.firstIndex(where: { $0.name == name }) { return i }
        let v6 = if case .v6 = address { true } else { false }
        return own.firstIndex { LocalAddress.isIPv6($0) == v6 } ?? 0
    }

    func classify(_ source: SocketAddress) -> String? {
        guard let ip = IPKey(source) else { return nil }
        if let port = source.port, let peer = byIPPort[ip.port(port)] { return peer }
        if let peer = byIP[ip], !peer.isEmpty { return peer }
        return ranges.first { $0.range.contains(ip) }?.peer
    }

    /// Whether any peer is configured at this address (whatever the port) or in a range holding it: such traffic
    /// gets a peer's budget.
    func isPeerAddress(_ ip: IPKey) -> Bool {
        byIP[ip] != nil || (!ranges.isEmpty && ranges.contains { $0.range.contains(ip) })
    }
}
