import CoreMetrics
import Foundation
import Prometheus
import Routing

/// Patchbay's metrics, recorded through swift-metrics into one Prometheus registry that `/metrics` exposes. An
/// instance per engine (not the global MetricsSystem), so tests can run several engines in one process.
///
/// Per-message counters are created once and kept (an increment is an atomic add); per-call counters with a route
/// or peer label are made on first use and kept by each shard (`CallCounters`).
public final class PatchbayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let receivedByTransport: [PatchbayConfiguration.Transport: CoreMetrics.Counter]
    private let sentByTransport: [PatchbayConfiguration.Transport: CoreMetrics.Counter]
    /// Made once for every reason: a flood is counted here per datagram, so no lookup under a lock.
    private let rejectedByReason: [String: CoreMetrics.Counter]
    /// `unmatched_response`: a response that parsed but belongs to no transaction or call of ours (a stray, or the
    /// answer to a request another element sent).
    static let rejectionReasons = [
        "parse_error", "unknown_source", "rate_limit", "overload", "auth", "unmatched_response", "peer_limit",
    ]

    public init() {
        let f = PrometheusMetricsFactory(registry: registry)
        factory = f
        var received: [PatchbayConfiguration.Transport: CoreMetrics.Counter] = [:]
        var sent: [PatchbayConfiguration.Transport: CoreMetrics.Counter] = [:]
        for t in PatchbayConfiguration.Transport.allCases {
            received[t] = CoreMetrics.Counter(
                label: "patchbay_messages_received_total", dimensions: [("transport", t.rawValue)], factory: f)
            sent[t] = CoreMetrics.Counter(
                label: "patchbay_messages_sent_total", dimensions: [("transport", t.rawValue)], factory: f)
        }
        receivedByTransport = received
        sentByTransport = sent
        rejectedByReason = Dictionary(
            uniqueKeysWithValues: Self.rejectionReasons.map {
                (
                    $0,
                    CoreMetrics.Counter(
                        label: "patchbay_messages_rejected_total", dimensions: [("reason", $0)], factory: f)
                )
            })
    }

    package func received(_ transport: PatchbayConfiguration.Transport) { receivedByTransport[transport]?.increment() }
    package func sent(_ transport: PatchbayConfiguration.Transport) { sentByTransport[transport]?.increment() }

    /// A message refused before routing: `parse_error`, `unknown_source`, `rate_limit`, `overload`, `auth`.
    package func rejected(_ reason: String) { rejectedByReason[reason]?.increment() }

    /// The series of calls ended with this route, source and outcome (each shard keeps the ones it used in its
    /// `CallCounters`).
    func callsCounter(route: String?, source: String, outcome: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(
            label: "patchbay_calls_total",
            dimensions: [("route", route ?? "-"), ("source", source), ("outcome", outcome)],
            factory: factory)
    }

    /// The series of target attempts at this peer with this status (0: skipped because it was down).
    func attemptsCounter(peer: String, status: Int) -> CoreMetrics.Counter {
        CoreMetrics.Counter(
            label: "patchbay_target_attempts_total", dimensions: [("peer", peer), ("status", String(status))],
            factory: factory)
    }

    package func reload(ok: Bool) {
        CoreMetrics.Counter(
            label: "patchbay_reloads_total", dimensions: [("result", ok ? "ok" : "rejected")], factory: factory
        ).increment()
        CoreMetrics.Gauge(label: "patchbay_last_reload_success", factory: factory).record(ok ? 1 : 0)
        CoreMetrics.Gauge(label: "patchbay_last_reload_timestamp_seconds", factory: factory).record(
            Date().timeIntervalSince1970)
    }

    /// Values read from the engine when scraped.
    package func gauges(
        activeCalls: Int, transactions: Int, peersUp: [String: Bool], media: EngineStatus.Media? = nil
    ) {
        if let media {
            for instance in media.instances {
                CoreMetrics.Gauge(
                    label: "patchbay_rtpengine_up", dimensions: [("instance", instance.name)], factory: factory
                )
                .record(instance.up ? 1 : 0)
            }
            CoreMetrics.Gauge(label: "patchbay_media_sessions", factory: factory).record(media.sessions)
            CoreMetrics.Gauge(label: "patchbay_media_request_failures", factory: factory).record(media.failures)
        }
        CoreMetrics.Gauge(label: "patchbay_calls_active", factory: factory).record(activeCalls)
        CoreMetrics.Gauge(label: "patchbay_transactions", factory: factory).record(transactions)
        for (peer, up) in peersUp {
            CoreMetrics.Gauge(label: "patchbay_peer_up", dimensions: [("peer", peer)], factory: factory).record(
                up ? 1 : 0)
        }
    }

    /// The Prometheus text exposition, with the processing-time histogram the shards keep themselves.
    public func exposition(processing: ProcessingHistogram? = nil) -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        if let processing { buffer += Array(processing.exposition(name: "patchbay_message_processing_seconds").utf8) }
        return buffer
    }
}
