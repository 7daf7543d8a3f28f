import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// Patchbay's metrics, recorded through swift-metrics into one Prometheus registry that `/metrics` exposes. An
/// instance per engine (not the global MetricsSystem), so tests can run several engines in one process.
///
/// Per-message counters are created once and kept (an increment is an atomic add); per-call counters with a route
/// or peer label are looked up by the registry, which returns the existing series.
public final class PatchbayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let receivedByTransport: [PatchbayConfiguration.Transport: CoreMetrics.Counter]
    private let sentByTransport: [PatchbayConfiguration.Transport: CoreMetrics.Counter]
    private let rejectedByReason: NIOLockedValueBox<[String: CoreMetrics.Counter]> = NIOLockedValueBox([:])
    let processing: CoreMetrics.Timer

    public init() {
        var f = PrometheusMetricsFactory(registry: registry)
        // Message handling takes microseconds; the default buckets start at milliseconds.
        f.defaultDurationHistogramBuckets = [
            .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
            .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
        ]
        factory = f
        var received: [PatchbayConfiguration.Transport: CoreMetrics.Counter] = [:]
        var sent: [PatchbayConfiguration.Transport: CoreMetrics.Counter] = [:]
        for t in PatchbayConfiguration.Transport.allCases {
            received[t] = CoreMetrics.Counter(label: "patchbay_messages_received_total", dimensions: [("transport", t.rawValue)], factory: f)
            sent[t] = CoreMetrics.Counter(label: "patchbay_messages_sent_total", dimensions: [("transport", t.rawValue)], factory: f)
        }
        receivedByTransport = received
        sentByTransport = sent
        processing = CoreMetrics.Timer(label: "patchbay_message_processing_seconds", factory: f)
    }

    func received(_ transport: PatchbayConfiguration.Transport) { receivedByTransport[transport]?.increment() }
    func sent(_ transport: PatchbayConfiguration.Transport) { sentByTransport[transport]?.increment() }

    /// A message refused before routing: `parse_error`, `unknown_source`, `rate_limit`, `overload`, `auth`.
    func rejected(_ reason: String) {
        let counter = rejectedByReason.withLockedValue { table -> CoreMetrics.Counter in
            if let c = table[reason] { return c }
            let c = CoreMetrics.Counter(label: "patchbay_messages_rejected_total", dimensions: [("reason", reason)], factory: factory)
            table[reason] = c
            return c
        }
        counter.increment()
    }

    /// A call ended: `outcome` is answered, failed (no target answered) or rejected (by a route).
    func callEnded(route: String?, source: String, outcome: String) {
        CoreMetrics.Counter(
            label: "patchbay_calls_total", dimensions: [("route", route ?? "-"), ("source", source), ("outcome", outcome)],
            factory: factory
        ).increment()
    }

    /// One target tried for a call and what it answered (0: skipped because it was down).
    func attempt(peer: String, status: Int) {
        CoreMetrics.Counter(label: "patchbay_target_attempts_total", dimensions: [("peer", peer), ("status", String(status))], factory: factory)
            .increment()
    }

    func reload(ok: Bool) {
        CoreMetrics.Counter(label: "patchbay_reloads_total", dimensions: [("result", ok ? "ok" : "rejected")], factory: factory).increment()
        CoreMetrics.Gauge(label: "patchbay_last_reload_success", factory: factory).record(ok ? 1 : 0)
        CoreMetrics.Gauge(label: "patchbay_last_reload_timestamp_seconds", factory: factory).record(Date().timeIntervalSince1970)
    }

    /// Values read from the engine when scraped.
    func gauges(activeCalls: Int, transactions: Int, peersUp: [String: Bool]) {
        CoreMetrics.Gauge(label: "patchbay_calls_active", factory: factory).record(activeCalls)
        CoreMetrics.Gauge(label: "patchbay_transactions", factory: factory).record(transactions)
        for (peer, up) in peersUp {
            CoreMetrics.Gauge(label: "patchbay_peer_up", dimensions: [("peer", peer)], factory: factory).record(up ? 1 : 0)
        }
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
