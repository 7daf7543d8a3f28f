/// A token bucket: `rate` tokens a second up to `burst`; each message takes one. A value: the limiter keeps one
/// per source and refills lazily from the time of the last message, so idle sources cost nothing.
package struct TokenBucket: Sendable {
    private(set) var tokens: Double
    private(set) var lastNanos: UInt64

    package init(burst: Double, now: UInt64) {
        tokens = burst
        lastNanos = now
    }

    package mutating func take(now: UInt64, rate: Double, burst: Double) -> Bool {
        if now > lastNanos {
            tokens = min(burst, tokens + Double(now - lastNanos) * rate / 1e9)
            lastNanos = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
