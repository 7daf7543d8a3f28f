import Atomics
import Routing

/// Calls in progress with each peer that has `limits.max_calls`, both directions, shared by every shard: a
/// gateway's 30 channels are 30 for the whole process. One atomic per peer, taken when a call from the peer is
/// admitted or an attempt to it is sent, given back when that call or attempt ends; a reload keeps the counts of
/// the peers it keeps.
package final class PeerCallCounts: Sendable {
    private let counts: [String: ManagedAtomic<Int>]

    package init(site: Site, previous: PeerCallCounts? = nil) {
        var counts: [String: ManagedAtomic<Int>] = [:]
        for peer in site.configuration.peers where peer.limits.maxCalls != nil {
            counts[peer.name] = previous?.counts[peer.name] ?? ManagedAtomic(0)
        }
        self.counts = counts
    }

    /// Takes one of `peer`'s `max` slots; false when all are taken (a peer without a limit always has one).
    package func begin(_ peer: String, max: Int?) -> Bool {
        guard let max, let count = counts[peer] else { return true }
        var current = count.load(ordering: .relaxed)
        while current < max {
            let (exchanged, original) = count.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    package func end(_ peer: String) {
        counts[peer]?.wrappingDecrement(ordering: .relaxed)
    }

    package func current(_ peer: String) -> Int? { counts[peer]?.load(ordering: .relaxed) }
}
