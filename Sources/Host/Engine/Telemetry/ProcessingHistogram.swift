import Routing

/// How long messages take from arrival to the end of their handling, as a Prometheus histogram that each shard
/// keeps for itself (plain integers on its own loop: no lock and no atomic on the per-message path) and that the
/// scrape adds up across shards.
public struct ProcessingHistogram: Sendable {
    /// Upper bounds in nanoseconds: handling takes microseconds, queueing behind other work can take milliseconds.
    static let bounds: [UInt64] = [
        10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 5_000_000, 25_000_000, 100_000_000,
    ]
    package private(set) var counts = [UInt64](repeating: 0, count: bounds.count + 1)
    private(set) var sumNanoseconds: UInt64 = 0

    public init() {}

    package mutating func record(nanoseconds: UInt64) {
        var i = 0
        while i < Self.bounds.count, nanoseconds > Self.bounds[i] { i += 1 }
        counts[i] &+= 1
        sumNanoseconds &+= nanoseconds
    }

    package mutating func add(_ other: ProcessingHistogram) {
        for i in counts.indices { counts[i] &+= other.counts[i] }
        sumNanoseconds &+= other.sumNanoseconds
    }

    package var count: UInt64 { counts.reduce(0, &+) }

    package func exposition(name: String) -> String {
        var out = "# TYPE \(name) histogram\n"
        var cumulative: UInt64 = 0
        for (i, bound) in Self.bounds.enumerated() {
            cumulative &+= counts[i]
            out += "\(name)_bucket{le=\"\(Double(bound) / 1e9)\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(count)\n"
        out += "\(name)_sum \(Double(sumNanoseconds) / 1e9)\n"
        out += "\(name)_count \(count)\n"
        return out
    }
}
