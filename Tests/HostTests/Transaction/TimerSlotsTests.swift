import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// `TimerSlots` stands in for a Dictionary keyed by the timer: it must keep every timer apart and behave like one.
@Suite struct TimerSlotsTests {
    @Test func everyTimerHasItsOwnSlotInDeclarationOrder() {
        #expect(TransactionTimer.ordered == TransactionTimer.allCases)
        #expect(TransactionTimer.ordered.map(\.slot) == Array(0..<TransactionTimer.allCases.count))
    }

    @Test func behavesLikeADictionaryKeyedByTheTimer() {
        var slots = TimerSlots<Int>()
        var reference: [TransactionTimer: Int] = [:]
        // Every timer set, some overwritten, some removed, in an order unlike the declaration's.
        for (n, timer) in TransactionTimer.ordered.reversed().enumerated() {
            slots[timer] = n
            reference[timer] = n
        }
        for timer in [TransactionTimer.B, .K, .E] {
            slots[timer] = 100
            reference[timer] = 100
        }
        for timer in [TransactionTimer.A, .J, .J] {
            #expect(slots.removeValue(forKey: timer) == reference.removeValue(forKey: timer))
        }
        for timer in TransactionTimer.ordered { #expect(slots[timer] == reference[timer], "\(timer)") }
        #expect(slots.keys == TransactionTimer.ordered.filter { reference[$0] != nil })
        var emptied: [Int] = []
        slots.removeAll { emptied.append($0) }
        #expect(emptied == TransactionTimer.ordered.compactMap { reference[$0] })
        #expect(slots.keys.isEmpty)
        #expect(slots == TimerSlots<Int>())
    }
}
