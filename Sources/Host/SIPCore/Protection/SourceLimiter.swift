/// Per-source admission for one event loop's receive path, checked before a datagram is parsed, so a flood costs
/// a table lookup per message rather than a parse. Configured peers get a generous bucket per address; addresses
/// of no peer get a tiny one each and share one more for all of them together, so a flood from many (spoofed)
/// addresses cannot crowd out the peers either. Owned by one loop (UDP keeps a source on one socket, and so on one
/// loop): no locks.
package struct SourceLimiter: Sendable {
    package struct Limit: Sendable, Equatable {
        package var rate: Double
        package var burst: Double

        /// `rate` messages a second, with bursts of twice that (at least one message).
        package static func rate(_ rate: Double) -> Limit { Limit(rate: rate, burst: max(1, rate * 2)) }
    }

    package var peerLimit: Limit
    package var unknownLimit: Limit
    package var unknownTotalLimit: Limit
    /// Sources remembered at most; beyond it, idle entries are forgotten, and if none is idle an unknown source
    /// is refused rather than remembered (memory stays bounded under a spoofed flood).
    package var capacity = 50_000
    private var buckets: [IPKey: TokenBucket] = [:]
    private var unknownTotal: TokenBucket?
    private var lastSweep: UInt64 = 0
    package private(set) var droppedFromPeers = 0
    package private(set) var droppedFromUnknown = 0

    package init(peer: Limit, unknown: Limit, unknownTotal: Limit) {
        peerLimit = peer
        unknownLimit = unknown
        unknownTotalLimit = unknownTotal
    }

    package mutating func admit(_ source: IPKey, known: Bool, now: UInt64) -> Bool {
        let limit = known ? peerLimit : unknownLimit
        if !known {
            var total = unknownTotal ?? TokenBucket(burst: unknownTotalLimit.burst, now: now)
            let ok = total.take(now: now, rate: unknownTotalLimit.rate, burst: unknownTotalLimit.burst)
            unknownTotal = total
            guard ok else {
                droppedFromUnknown += 1
                return false
            }
        }
        if buckets[source] == nil {
            if buckets.count >= capacity { forgetIdle(now: now) }
            if buckets.count >= capacity, !known {
                droppedFromUnknown += 1
                return false
            }
        }
        let ok = buckets[source, default: TokenBucket(burst: limit.burst, now: now)].take(
            now: now, rate: limit.rate, burst: limit.burst)
        if !ok {
            if known { droppedFromPeers += 1 } else { droppedFromUnknown += 1 }
        }
        return ok
    }

    /// A bucket that has had time to refill completely holds nothing worth remembering.
    private mutating func forgetIdle(now: UInt64) {
        // At most once a second: under a spoofed flood the table stays full and sweeping per message would cost
        // more than the flood.
        guard now &- lastSweep > 1_000_000_000 else { return }
        lastSweep = now
        let idle: UInt64 = 10_000_000_000
        buckets = buckets.filter { now &- $0.value.lastNanos < idle }
    }
}
