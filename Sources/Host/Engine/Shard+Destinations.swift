import NIOCore
import Routing
import SIPCore

/// Where a request to a peer goes: its configured addresses and its host names' servers (RFC 3263), in the order
/// one call tries them.
extension Shard {
    /// A fresh order per call: SRV weights spread calls over a priority's servers. Addresses reported down are left
    /// out while the peer has others.
    package func destinations(of peer: String) -> [SIPDestination] {
        guard let targets = routing.targets[peer] else { return [] }
        // Most peers: one configured address, no DNS, no choice.
        if targets.count == 1, case .fixed(let only) = targets[0], downAddresses.isEmpty { return [only] }
        var all: [SIPDestination] = []
        for target in targets {
            switch target {
            case .fixed(let d): all.append(d)
            case .located(let name):
                guard let location = locations[name] else { continue }
                for server in location.ordered(using: &random) {
                    for a in server.addresses {
                        if let d = routing.destination(
                            peer: peer, transport: server.transport, host: a, port: server.port)
                        {
                            all.append(d)
                        }
                    }
                }
            }
        }
        guard !downAddresses.isEmpty else { return all }
        let up = all.filter { !downAddresses.contains($0.address) }
        return up.isEmpty ? all : up
    }

    /// Every destination of `peer` in configuration and DNS order, for the health checks.
    func allDestinations(of peer: String) -> [SIPDestination] {
        guard let targets = routing.targets[peer] else { return [] }
        return targets.flatMap { target -> [SIPDestination] in
            switch target {
            case .fixed(let d): return [d]
            case .located(let name):
                return (locations[name]?.servers ?? []).flatMap { server in
                    server.addresses.compactMap {
                        routing.destination(peer: peer, transport: server.transport, host: $0, port: server.port)
                    }
                }
            }
        }
    }

    /// The DNS answers now in force (`PeerLocator`).
    func setLocations(_ locations: [SIPLocator.Target: SIPLocation]) {
        self.locations = locations
        var sources: [IPPortKey: String] = [:]
        var hosts: [IPKey: String] = [:]
        for (peer, targets) in routing.targets {
            for case .located(let name) in targets {
                for server in locations[name]?.servers ?? [] {
                    for a in server.addresses {
                        guard let address = try? SocketAddress(ipAddress: a, port: server.port),
                            let ip = IPKey(address)
                        else { continue }
                        let key = ip.port(server.port)
                        sources[key] = sources[key] ?? peer
                        // Like a configured address: the address alone classifies unless two peers share it.
                        if let other = hosts[ip], other != peer { hosts[ip] = "" } else { hosts[ip] = peer }
                    }
                }
            }
        }
        locatedSources = sources
        locatedHosts = hosts
    }

    /// The peer a source belongs to through DNS: a located server's address and port, else its address when no
    /// configured peer has it and no two located peers share it.
    func locatedPeer(_ source: SocketAddress) -> String? {
        guard !locatedHosts.isEmpty, let ip = IPKey(source) else { return nil }
        if let port = source.port, let peer = locatedSources[ip.port(port)] { return peer }
        guard !routing.hasAddress(ip), let peer = locatedHosts[ip], !peer.isEmpty else { return nil }
        return peer
    }
}
