import NIOCore
import PluginAPI

/// The timers of RFC 3261 section 17 (table 4 in appendix A), named as the RFC names them so logs and tests can be
/// read against the figures.
public enum TransactionTimer: String, Hashable, Sendable, CaseIterable {
    case A, B, D, E, F, G, H, I, J, K

    /// Every timer in declaration order, made once: `allCases` builds a new array on each use.
    static let ordered = allCases

    /// The timer's place in `ordered`, for `TimerSlots`.
    var slot: Int {
        switch self {
        case .A: 0
        case .B: 1
        case .D: 2
        case .E: 3
        case .F: 4
        case .G: 5
        case .H: 6
        case .I: 7
        case .J: 8
        case .K: 9
        }
    }
}

/// One optional value per transaction timer, in an array indexed by the timer. A Dictionary keyed by the timer hashed
/// its String raw value on every start, cancel and fire: a tenth of the transaction layer's instructions per call
/// (bench-callgrind, path `transactions`).
struct TimerSlots<Value> {
    private var values: [Value?] = Array(repeating: nil, count: TransactionTimer.ordered.count)

    subscript(timer: TransactionTimer) -> Value? {
        get { values[timer.slot] }
        set { values[timer.slot] = newValue }
    }

    @discardableResult
    mutating func removeValue(forKey timer: TransactionTimer) -> Value? {
        defer { values[timer.slot] = nil }
        return values[timer.slot]
    }

    /// The timers that hold a value, in declaration order.
    var keys: [TransactionTimer] { TransactionTimer.ordered.filter { values[$0.slot] != nil } }

    /// Empties every slot, handing each value held to `body` in declaration order.
    mutating func removeAll(_ body: (Value) -> Void) {
        for i in values.indices {
            guard let value = values[i] else { continue }
            values[i] = nil
            body(value)
        }
    }
}

extension TimerSlots: Equatable where Value: Equatable {}
extension TimerSlots: Sendable where Value: Sendable {}

/// T1, T2 and T4 (RFC 3261 section 17.1.1.1 and appendix A) and whether the transport under the transaction is
/// reliable, which decides whether the retransmission timers run and whether the wait states (D, I, J, K) last.
public struct TransactionSettings: Sendable, Equatable {
    /// Round-trip estimate; every other interval but D is derived from it.
    public var t1: TimeAmount
    /// Cap on the retransmission interval of non-INVITE requests and of INVITE final responses.
    public var t2: TimeAmount
    /// How long a message may stay in the network.
    public var t4: TimeAmount
    public var reliableTransport: Bool
    /// Timer B of INVITE client transactions when not 64*T1: a peer's `invite_timeout`.
    public var timerB: TimeAmount?

    public init(
        t1: TimeAmount = .milliseconds(500), t2: TimeAmount = .seconds(4), t4: TimeAmount = .seconds(5),
        reliableTransport: Bool = false
    ) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.reliableTransport = reliableTransport
    }

    /// The same timers over another kind of transport: one layer serves UDP and TCP peers alike.
    public func with(reliableTransport: Bool) -> TransactionSettings {
        var copy = self
        copy.reliableTransport = reliableTransport
        return copy
    }

    /// 64*T1: the give-up time of Timers B, F and H, and Timer J on an unreliable transport.
    public var transactionTimeout: TimeAmount { 64 * t1 }

    /// How long an INVITE client transaction waits for its first response.
    public var inviteTimeout: TimeAmount { timerB ?? transactionTimeout }

    /// RFC 3261 says "at least 32 s" and does not tie it to T1: it covers the other side's Timer G retransmissions
    /// of a final response, which are paced by the other side's T1 and T2, not ours.
    public var timerD: TimeAmount { reliableTransport ? .zero : .seconds(32) }
    public var timerI: TimeAmount { reliableTransport ? .zero : t4 }
    public var timerJ: TimeAmount { reliableTransport ? .zero : transactionTimeout }
    public var timerK: TimeAmount { reliableTransport ? .zero : t4 }
}

/// What a state machine asks its driver to do. The machines never touch a socket or a clock, so they can be tested
/// event by event and driven by any loop.
public enum TransactionAction: Equatable, Sendable {
    /// Hand to the transport (first transmission or a retransmission).
    case send(SIPMessage)
    /// Pass to the transaction user: a request on the server side, a response on the client side.
    case deliver(SIPMessage)
    case startTimer(TransactionTimer, TimeAmount)
    case cancelTimer(TransactionTimer)
    /// Timer B or F fired (the TU treats it as a 408), or Timer H on the server side (the ACK never came).
    case timedOut
    case transportError
    /// Always the last action of a transaction; the driver forgets it.
    case terminated
}

/// Why the transaction layer gave up on a transaction, as reported to the TU.
public enum TransactionFailure: Hashable, Sendable {
    case timeout
    case transportError
}

/// The timers a machine has asked for and not yet seen fire or cancelled, with the interval each was started with
/// (the next retransmission interval is derived from it). Keeping them lets a machine cancel exactly what runs when
/// it leaves a state, and ignore a fire that raced with a cancellation.
struct RunningTimers: Sendable, Equatable {
    private(set) var intervals = TimerSlots<TimeAmount>()

    var names: Set<TransactionTimer> { Set(intervals.keys) }

    mutating func start(_ timer: TransactionTimer, _ interval: TimeAmount, into actions: inout [TransactionAction]) {
        intervals[timer] = interval
        actions.append(.startTimer(timer, interval))
    }

    mutating func cancel(_ timer: TransactionTimer, into actions: inout [TransactionAction]) {
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

/// What the layer needs from either client machine, so it can hold both kinds in one table.
protocol ClientTransactionMachine {
    var request: SIPMessage { get }
    var isTerminated: Bool { get }
    mutating func start() -> [TransactionAction]
    mutating func receive(_ response: SIPMessage) -> [TransactionAction]
    mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction]
    mutating func transportFailed() -> [TransactionAction]
}

/// What the layer needs from either server machine.
protocol ServerTransactionMachine {
    var request: SIPMessage { get }
    var isTerminated: Bool { get }
    mutating func start() -> [TransactionAction]
    mutating func receive(_ request: SIPMessage) -> [TransactionAction]
    mutating func send(_ response: SIPMessage) -> [TransactionAction]
    mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction]
    mutating func transportFailed() -> [TransactionAction]
}

extension SIPMessage {
    /// The SIP version of the start line, so messages a transaction builds answer in the version they were sent in.
    var transactionSIPVersion: String {
        switch startLine {
        case .request(_, _, let version), .response(let version, _, _): version
        }
    }
}
