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
        let all = routing.destinations(of: peer, in: locations) { $0.ordered(using: &random) }
        guard !downAddresses.isEmpty else { return all }
        let up = all.filter { !downAddresses.contains($0.address) }
        return up.isEmpty ? all : up
    }

    /// Every destination of `peer` in configuration and DNS order, for the health checks.
    func allDestinations(of peer: String) -> [SIPDestination] { routing.destinations(of: peer, in: locations) }

    /// The DNS answers now in force (`PeerLocator`).
    func setLocations(_ locations: [SIPLocator.Target: SIPLocation]) {
        self.locations = locations
        routing.locate(locations)
    }
}
