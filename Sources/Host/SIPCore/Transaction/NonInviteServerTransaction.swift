import NIOCore
import PluginAPI

/// RFC 3261 section 17.2.2, figure 8: the server side of every request but INVITE and ACK (CANCEL included).
public struct NonInviteServerTransaction: ServerTransactionMachine, Sendable {
    public enum State: Hashable, Sendable { case trying, proceeding, completed, terminated }

    public private(set) var state: State = .trying
    public let request: SIPMessage
    public let settings: TransactionSettings
    public private(set) var lastProvisional: SIPMessage?
    public private(set) var finalResponse: SIPMessage?
    private var timers = RunningTimers()
    private var started = false

    public init(request: SIPMessage, settings: TransactionSettings = TransactionSettings()) {
        precondition(
            request.isRequest && request.method != "INVITE" && request.method != "ACK",
            "a non-INVITE server transaction needs a request other than INVITE and ACK")
        self.request = request
        self.settings = settings
    }

    public var isTerminated: Bool { state == .terminated }
    public var runningTimers: Set<TransactionTimer> { timers.names }

    /// Passes the request to the TU.
    public mutating func start() -> [TransactionAction] {
        guard !started else { return [] }
        started = true
        return [.deliver(request)]
    }

    /// A retransmission of the request.
    public mutating func receive(_ request: SIPMessage) -> [TransactionAction] {
        switch state {
        case .proceeding: lastProvisional.map { [.send($0)] } ?? []
        case .completed: finalResponse.map { [.send($0)] } ?? []
        // In Trying the TU has not answered yet; there is nothing to repeat and the TU has the request.
        case .trying, .terminated: []
        }
    }

    /// A response from the TU.
    public mutating func send(_ response: SIPMessage) -> [TransactionAction] {
        guard state == .trying || state == .proceeding, let status = response.statusCode else {
            // Final responses after the first are discarded (section 17.2.2).
            return []
        }
        var actions: [TransactionAction] = [.send(response)]
        if status < 200 {
            lastProvisional = response
            state = .proceeding
            return actions
        }
        finalResponse = response
        state = .completed
        if settings.timerJ > .zero {
            timers.start(.J, settings.timerJ, into: &actions)
        } else {
            terminate(into: &actions)
        }
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard timers.fired(timer) != nil, state == .completed, timer == .J else { return [] }
        var actions: [TransactionAction] = []
        terminate(into: &actions)
        return actions
    }

    public mutating func transportFailed() -> [TransactionAction] {
        guard state != .terminated else { return [] }
        var actions: [TransactionAction] = []
        terminate(reporting: [.transportError], into: &actions)
        return actions
    }

    /// Timers are cancelled before anything is reported, and `.terminated` always comes last.
    private mutating func terminate(
        reporting report: [TransactionAction] = [], into actions: inout [TransactionAction]
    ) {
        timers.cancelAll(into: &actions)
        actions += report
        state = .terminated
        actions.append(.terminated)
    }
}
