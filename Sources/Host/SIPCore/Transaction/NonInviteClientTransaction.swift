import NIOCore
import PluginAPI

/// RFC 3261 section 17.1.2, figure 6: the client side of every request but INVITE and ACK (CANCEL included).
///
/// Every provisional response received in Trying or Proceeding is delivered, as the RFC asks; the final response is
/// delivered once, and its retransmissions in Completed are absorbed.
public struct NonInviteClientTransaction: ClientTransactionMachine, Sendable {
    public enum State: Hashable, Sendable { case trying, proceeding, completed, terminated }

    public private(set) var state: State = .trying
    public let request: SIPMessage
    public let settings: TransactionSettings
    private var timers = RunningTimers()
    private var started = false

    public init(request: SIPMessage, settings: TransactionSettings = TransactionSettings()) {
        precondition(
            request.isRequest && request.method != "INVITE" && request.method != "ACK",
            "a non-INVITE client transaction needs a request other than INVITE and ACK")
        self.request = request
        self.settings = settings
    }

    public var isTerminated: Bool { state == .terminated }
    public var runningTimers: Set<TransactionTimer> { timers.names }

    /// Sends the request and starts Timers E (unreliable transports only) and F.
    public mutating func start() -> [TransactionAction] {
        guard !started else { return [] }
        started = true
        var actions: [TransactionAction] = [.send(request)]
        if !settings.reliableTransport { timers.start(.E, settings.t1, into: &actions) }
        timers.start(.F, settings.transactionTimeout, into: &actions)
        return actions
    }

    public mutating func receive(_ response: SIPMessage) -> [TransactionAction] {
        guard let status = response.statusCode else { return [] }
        var actions: [TransactionAction] = []
        switch (state, status) {
        case (.trying, 100...199), (.proceeding, 100...199):
            // Timer E keeps running: a non-INVITE is retransmitted until the final response, at T2 from now on.
            state = .proceeding
            actions.append(.deliver(response))
        case (.trying, 200...699), (.proceeding, 200...699):
            timers.cancelAll(into: &actions)
            actions.append(.deliver(response))
            state = .completed
            if settings.timerK > .zero {
                timers.start(.K, settings.timerK, into: &actions)
            } else {
                terminate(into: &actions)
            }
        default:
            // Completed buffers retransmitted finals (and stray provisionals) without telling the TU again.
            break
        }
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard let interval = timers.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch (state, timer) {
        case (.trying, .E):
            actions.append(.send(request))
            timers.start(.E, min(2 * interval, settings.t2), into: &actions)
        case (.proceeding, .E):
            actions.append(.send(request))
            timers.start(.E, settings.t2, into: &actions)
        case (.trying, .F), (.proceeding, .F):
            terminate(reporting: [.timedOut], into: &actions)
        case (.completed, .K):
            terminate(into: &actions)
        default:
            break
        }
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
