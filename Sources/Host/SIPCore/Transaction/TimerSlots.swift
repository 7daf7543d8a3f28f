import NIOCore
import PluginAPI

/// One optional value per transaction timer, in an array indexed by the timer. A Dictionary keyed by the timer hashed
/// its String raw value on every start, cancel and fire: a tenth of the transaction layer's instructions per call
/// (bench-callgrind, path `transactions`).
struct TimerSlots<Value> {
    private var values: [Value?] = Array(repeating: nil, count: TransactionTimer.ordered.count)

    package subscript(timer: TransactionTimer) -> Value? {
        get { values[timer.slot] }
        set { values[timer.slot] = newValue }
    }

    @discardableResult
    package mutating func removeValue(forKey timer: TransactionTimer) -> Value? {
        defer { values[timer.slot] = nil }
        return values[timer.slot]
    }

    /// The timers that hold a value, in declaration order.
    package var keys: [TransactionTimer] { TransactionTimer.ordered.filter { values[$0.slot] != nil } }

    /// Empties every slot, handing each value held to `body` in declaration order.
    package mutating func removeAll(_ body: (Value) -> Void) {
        for i in values.indices {
            guard let value = values[i] else { continue }
            values[i] = nil
            body(value)
        }
    }
}

extension TimerSlots: Equatable where Value: Equatable {}
extension TimerSlots: Sendable where Value: Sendable {}
