import NIOCore
import NIOEmbedded
import Testing

@testable import Engine
@testable import SIPCore

/// The loop's timer queue on a virtual clock: what fires, when, and in which order.
@Suite struct TimerQueueTests {
    final class Clock {
        let loop = EmbeddedEventLoop()
        lazy var queue = TimerQueue(eventLoop: loop)
        var fired: [(name: String, at: Int64)] = []

        var nowMS: Int64 { Int64(loop.now.uptimeNanoseconds / 1_000_000) }

        @discardableResult
        func start(_ name: String, in ms: Int64) -> TimerQueue.Handle {
            queue.schedule(in: .milliseconds(ms)) { [unowned self] in self.fired.append((name, self.nowMS)) }
        }

        func advance(toMS ms: Int64) { loop.advanceTime(to: .uptimeNanoseconds(UInt64(ms) * 1_000_000)) }
        var log: [String] { fired.map { "\($0.name)@\($0.at)" } }
    }

    @Test func timersFireAtTheirDeadlinesInOrderAndTiesInStartOrder() {
        let c = Clock()
        c.start("B", in: 32_000)
        c.start("A", in: 500)
        c.start("A2", in: 500)
        c.start("E", in: 100)
        c.advance(toMS: 499)
        #expect(c.log == ["E@100"])
        c.advance(toMS: 40_000)
        #expect(c.log == ["E@100", "A@500", "A2@500", "B@32000"])
        #expect(c.queue.count == 0)
    }

    @Test func aCancelledTimerNeverFiresEvenWhenDueInTheSameInstant() {
        let c = Clock()
        var second: TimerQueue.Handle?
        c.queue.schedule(in: .milliseconds(10)) { [unowned c] in
            c.fired.append(("first", c.nowMS))
            if let second { c.queue.cancel(second) }
        }
        second = c.start("second", in: 10)
        let third = c.start("third", in: 20)
        c.queue.cancel(third)
        c.queue.cancel(third)
        c.advance(toMS: 100)
        #expect(c.log == ["first@10"])
    }

    @Test func aTimerStartedWhileFiringRunsAtItsOwnDeadline() {
        let c = Clock()
        // Timer A's doubling: each firing starts the next.
        var interval: Int64 = 500
        func retransmit() {
            c.queue.schedule(in: .milliseconds(interval)) {
                c.fired.append(("A", c.nowMS))
                interval *= 2
                if interval <= 4_000 { retransmit() }
            }
        }
        retransmit()
        c.start("late", in: 2_000)
        c.advance(toMS: 10_000)
        #expect(c.log == ["A@500", "A@1500", "late@2000", "A@3500", "A@7500"])
    }

    @Test func anEarlierTimerRearmsTheLoop() {
        let c = Clock()
        c.start("late", in: 5_000)
        c.advance(toMS: 1_000)
        c.start("soon", in: 10)
        c.advance(toMS: 1_010)
        #expect(c.log == ["soon@1010"], "the queue must not wait for the deadline armed before")
    }

    @Test func manyCancelledTimersAreCompactedAndTheRestStillFire() {
        let c = Clock()
        var handles: [TimerQueue.Handle] = []
        for i in 0..<5_000 { handles.append(c.start("t\(i)", in: 32_000 + Int64(i % 7))) }
        for (i, h) in handles.enumerated() where i % 100 != 0 { c.queue.cancel(h) }
        #expect(c.queue.count == 50)
        c.advance(toMS: 40_000)
        #expect(c.fired.count == 50)
        #expect(Set(c.fired.map(\.name)) == Set((0..<50).map { "t\($0 * 100)" }))
        #expect(c.fired.map(\.at) == c.fired.map(\.at).sorted(), "still in deadline order after compaction")
    }
}
