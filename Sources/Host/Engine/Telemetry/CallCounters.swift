import CoreMetrics
import SIPCore

/// One shard's memo of the per-call counter series: calls ended, by route, source and outcome, and target
/// attempts, by peer and status.
///
/// Asking the registry for a series builds its label set and takes the registry's lock every time; under the bench
/// load that was 0.8 % of the event loops' CPU, twice per call. The memo belongs to one loop, so it takes no lock.
/// Label values are route and peer names from the configuration and SIP status codes, so it stays small.
final class CallCounters {
    private struct Ended: Hashable {
        var route: String?
        var source: String
        var outcome: String
    }

    private struct Attempt: Hashable {
        var peer: String
        var status: Int
    }

    private let metrics: PatchbayMetrics
    private var ended: [Ended: CoreMetrics.Counter] = [:]
    private var attempts: [Attempt: CoreMetrics.Counter] = [:]

    package init(_ metrics: PatchbayMetrics) {
        self.metrics = metrics
    }

    /// A call ended: `outcome` is answered, failed (no target answered) or rejected (by a route).
    func callEnded(route: String?, source: String, outcome: String) {
        Self.increment(&ended, Ended(route: route, source: source, outcome: outcome)) {
            metrics.callsCounter(route: route, source: source, outcome: outcome)
        }
    }

    /// One target tried for a call and what it answered (0: skipped because it was down).
    package func attempt(peer: String, status: Int) {
        Self.increment(&attempts, Attempt(peer: peer, status: status)) {
            metrics.attemptsCounter(peer: peer, status: status)
        }
    }

    /// Increments the series kept under `key`, asking `make` for it the first time.
    private static func increment<Key>(
        _ table: inout [Key: CoreMetrics.Counter], _ key: Key, make: () -> CoreMetrics.Counter
    ) {
        if let counter = table[key] { return counter.increment() }
        let counter = make()
        table[key] = counter
        counter.increment()
    }
}
