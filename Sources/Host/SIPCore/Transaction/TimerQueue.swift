import NIOCore

/// The timers of one event loop (transaction timers A-K, a call's ring timeout and 2xx retransmission) in one binary
/// heap, with a single NIO task armed for the earliest deadline.
///
/// Every call starts and cancels several timers. With one `scheduleTask` each, a timer cost a promise, a `Scheduled`
/// and an entry in the loop's own heap, and a cancel searched that heap linearly: 5 % of Patchbay's CPU under load
/// (`make bench-load`). Here starting a timer is a heap push and a dictionary insert, and a cancel is one dictionary
/// removal: the heap entry is dropped when it comes due, or by a compaction once dead entries outnumber live ones,
/// so a burst of cancelled 32-second timers does not hold memory for 32 seconds.
///
/// Deadlines come from the loop's clock (`EventLoop.now`), so `EmbeddedEventLoop.advanceTime` drives the queue in
/// tests as it drives NIO's own tasks. Confined to its loop, like `TransactionLayer`; not `Sendable`.
public final class TimerQueue {
    /// What `cancel(_:)` takes; a handle of a timer that fired or was cancelled is ignored.
    public struct Handle: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    private struct Item {
        var deadline: NIODeadline
        /// Also the tie-break: timers due at the same instant fire in the order they were started.
        var id: UInt64

        func precedes(_ other: Item) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && id < other.id)
        }
    }

    public let eventLoop: any EventLoop
    private var heap: [Item] = []
    private var live: [UInt64: () -> Void] = [:]
    private var lastID: UInt64 = 0
    private var armed: (deadline: NIODeadline, task: Scheduled<Void>)?

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Timers started and not yet fired or cancelled.
    public var count: Int { live.count }

    /// Runs `fire` on the loop once `delay` has passed, unless cancelled first.
    @discardableResult
    public func schedule(in delay: TimeAmount, _ fire: @escaping () -> Void) -> Handle {
        lastID &+= 1
        let item = Item(deadline: eventLoop.now + delay, id: lastID)
        live[item.id] = fire
        push(item)
        if let armed, armed.deadline <= item.deadline { return Handle(id: item.id) }
        arm(item.deadline)
        return Handle(id: item.id)
    }

    public func cancel(_ handle: Handle) {
        guard live.removeValue(forKey: handle.id) != nil else { return }
        if heap.count > 1024, heap.count > 2 * live.count { compact() }
    }

    // MARK: Firing

    private func arm(_ deadline: NIODeadline) {
        armed?.task.cancel()
        let task = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] () -> Void in
            self?.fireDue()
        }
        armed = (deadline, task)
    }

    private func fireDue() {
        armed = nil
        let now = eventLoop.now
        while let top = heap.first, top.deadline <= now {
            popTop()
            // A fired timer may start others (Timer A restarts itself); they join the heap and, if already due, this
            // same pass.
            if let fire = live.removeValue(forKey: top.id) { fire() }
        }
        // Skip entries of cancelled timers at the top so the loop is not woken for nothing.
        while let top = heap.first, live[top.id] == nil { popTop() }
        if let top = heap.first, armed.map({ top.deadline < $0.deadline }) ?? true { arm(top.deadline) }
    }

    // MARK: Heap

    private func push(_ item: Item) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var first = left
            if left + 1 < heap.count, heap[left + 1].precedes(heap[left]) { first = left + 1 }
            guard heap[first].precedes(heap[parent]) else { return }
            heap.swapAt(first, parent)
            parent = first
        }
    }

    private func compact() {
        heap.removeAll { live[$0.id] == nil }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }
}

@available(*, unavailable, message: "a TimerQueue is confined to its event loop")
extension TimerQueue: Sendable {}
