import NIOCore
import PluginAPI

/// The timers a machine has asked for and not yet seen fire or cancelled, with the interval each was started with
/// (the next retransmission interval is derived from it). Keeping them lets a machine cancel exactly what runs when
/// it leaves a state, and ignore a fire that raced with a cancellation.
struct RunningTimers: Sendable, Equatable {
    private(set) var intervals = TimerSlots<TimeAmount>()

    package var names: Set<TransactionTimer> { Set(intervals.keys) }

    package mutating func start(
        _ timer: TransactionTimer, _ interval: TimeAmount, into actions: inout [TransactionAction]
    ) {
        intervals[timer] = interval
        actions.append(.startTimer(timer, interval))
    }

    package mutating func cancel(_ timer: TransactionTimer, into actions: inout [TransactionAction]) {
        if intervals.removeValue(forKey: timer) != nil { actions.append(.cancelTimer(timer)) }
    }

    /// The interval the timer was running with, or nil when it was not running (a stale fire to ignore).
    mutating func fired(_ timer: TransactionTimer) -> TimeAmount? {
        intervals.removeValue(forKey: timer)
    }

    mutating func cancelAll(into actions: inout [TransactionAction]) {
        // Declaration order, so action lists are deterministic and tests can compare them exactly.
        for timer in TransactionTimer.ordered { cancel(timer, into: &actions) }
    }
}
