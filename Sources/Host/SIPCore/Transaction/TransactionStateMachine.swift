import NIOCore
import PluginAPI

/// What the four RFC 3261 transaction machines share: a state with a Terminated case, their `TransactionCore`,
/// and how they wait and end. Each machine keeps its own transitions (figures 5 to 8); only the bookkeeping is
/// here.
protocol TransactionStateMachine {
    associatedtype State: Equatable
    static var terminatedState: State { get }
    var state: State { get set }
    var core: TransactionCore { get set }
}

extension TransactionStateMachine {
    var request: SIPMessage { core.request }
    var settings: TransactionSettings { core.settings }
    var isTerminated: Bool { state == Self.terminatedState }
    var runningTimers: Set<TransactionTimer> { core.timers.names }

    /// The transport could not deliver a message (RFC 3261 section 17.1.4 and 17.2.4): the transaction ends and
    /// the TU hears of it.
    mutating func transportFailed() -> [TransactionAction] {
        guard !isTerminated else { return [] }
        var actions: [TransactionAction] = []
        terminate(reporting: [.transportError], into: &actions)
        return actions
    }

    /// The wait that absorbs retransmissions after a final response (Timers D, I, J, K): none on a reliable
    /// transport, whose interval is zero, so the transaction ends at once.
    mutating func enterWaitState(
        _ timer: TransactionTimer, _ interval: TimeAmount, into actions: inout [TransactionAction]
    ) {
        if interval > .zero {
            core.timers.start(timer, interval, into: &actions)
        } else {
            terminate(into: &actions)
        }
    }

    /// Timers are cancelled before anything is reported, and `.terminated` always comes last.
    mutating func terminate(reporting report: [TransactionAction] = [], into actions: inout [TransactionAction]) {
        core.timers.cancelAll(into: &actions)
        actions += report
        state = Self.terminatedState
        actions.append(.terminated)
    }
}
