import CoreMetrics

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

    init(_ metrics: PatchbayMetrics) {
        self.metrics = metrics
    }

    /// A call ended: `outcome` is answered, failed (no target answered) or rejected (by a route).
    func callEnded(route: String?, source: String, outcome: String) {
        let key = Ended(route: route, source: source, outcome: outcome)
        if let counter = ended[key] { return counter.increment() }
        let counter = metrics.callsCounter(route: route, source: source, outcome: outcome)
        ended[key] = counter
        counter.increment()
    }

    /// One target tried for a call and what it answered (0: skipped because it was down).
    func attempt(peer: String, status: Int) {
        let key = Attempt(peer: peer, status: status)
        if let counter = attempts[key] { return counter.increment() }
        let counter = metrics.attemptsCounter(peer: peer, status: status)
        attempts[key] = counter
        counter.increment()
    }
}
