import Atomics
import Routing
import SIPCore

/// At most one log line per interval for something that can happen per message (a flood of unparsable responses,
/// strays), from any event loop: one compare-and-swap decides, no lock. The line it lets through should say how
/// many happened since the last.
final class LogThrottle: Sendable {
    private let last = ManagedAtomic<UInt64>(0)
    private let interval: UInt64

    package init(seconds: UInt64 = 10) { interval = seconds * 1_000_000_000 }

    /// Whether a line may be logged at `now` (uptime nanoseconds); true for the first call.
    func due(now: UInt64) -> Bool {
        let previous = last.load(ordering: .relaxed)
        guard previous == 0 || now &- previous >= interval else { return false }
        return last.compareExchange(expected: previous, desired: max(1, now), ordering: .relaxed).exchanged
    }
}
