import Testing

@testable import Engine
@testable import Routing

struct ProcessingHistogramTests {
    @Test func bucketsAreCumulativeAndShardsAddUp() {
        var a = ProcessingHistogram()
        a.record(nanoseconds: 5_000)  // <= 10 us
        a.record(nanoseconds: 10_000)  // exactly on the bound: still the 10 us bucket
        a.record(nanoseconds: 300_000)  // <= 500 us
        var b = ProcessingHistogram()
        b.record(nanoseconds: 2_000_000_000)  // beyond the last bound: only +Inf
        a.add(b)
        let text = a.exposition(name: "x")
        #expect(text.contains("x_bucket{le=\"1e-05\"} 2\n"))
        #expect(text.contains("x_bucket{le=\"0.00025\"} 2\n"))
        #expect(text.contains("x_bucket{le=\"0.0005\"} 3\n"))
        #expect(text.contains("x_bucket{le=\"0.1\"} 3\n"))
        #expect(text.contains("x_bucket{le=\"+Inf\"} 4\n"))
        #expect(text.contains("x_count 4\n"))
        #expect(text.contains("x_sum 2.000315\n"))
    }
}
