import Testing

@testable import Engine

/// Each shard keeps the per-call series it has used; the counts must still land in the one registry `/metrics`
/// shows, whichever shard counted them and however often.
@Suite struct CallCountersTests {
    static func value(_ metrics: PatchbayMetrics, _ name: String, _ labels: [String: String]) -> Double? {
        OperationsTests.sample(String(decoding: metrics.exposition(), as: UTF8.self), name, labels)
    }

    @Test func repeatedCountsAccumulateInOneSeries() {
        let metrics = PatchbayMetrics()
        let shard = CallCounters(metrics)
        for _ in 0..<3 { shard.attempt(peer: "gw", status: 200) }
        shard.attempt(peer: "gw", status: 486)
        shard.attempt(peer: "itsp", status: 0)
        for _ in 0..<2 { shard.callEnded(route: "national", source: "pbx", outcome: "answered") }
        shard.callEnded(route: nil, source: "pbx", outcome: "rejected")
        #expect(Self.value(metrics, "patchbay_target_attempts_total", ["peer": "gw", "status": "200"]) == 3)
        #expect(Self.value(metrics, "patchbay_target_attempts_total", ["peer": "gw", "status": "486"]) == 1)
        #expect(Self.value(metrics, "patchbay_target_attempts_total", ["peer": "itsp", "status": "0"]) == 1)
        #expect(
            Self.value(metrics, "patchbay_calls_total", ["route": "national", "source": "pbx", "outcome": "answered"])
                == 2)
        #expect(
            Self.value(metrics, "patchbay_calls_total", ["route": "-", "source": "pbx", "outcome": "rejected"]) == 1)
    }

    @Test func twoShardsCountIntoTheSameSeries() {
        let metrics = PatchbayMetrics()
        let first = CallCounters(metrics)
        let second = CallCounters(metrics)
        first.attempt(peer: "gw", status: 503)
        second.attempt(peer: "gw", status: 503)
        first.attempt(peer: "gw", status: 503)
        second.callEnded(route: "mobile", source: "pbx", outcome: "failed")
        first.callEnded(route: "mobile", source: "pbx", outcome: "failed")
        #expect(Self.value(metrics, "patchbay_target_attempts_total", ["peer": "gw", "status": "503"]) == 3)
        #expect(Self.value(metrics, "patchbay_calls_total", ["route": "mobile", "outcome": "failed"]) == 2)
    }
}
