import NIOCore
import PluginAPI

/// RFC 3261 section 17.1.2, figure 6: the client side of every request but INVITE and ACK (CANCEL included).
///
/// Every provisional response received in Trying or Proceeding is delivered, as the RFC asks; the final response is
/// delivered once, and its retransmissions in Completed are absorbed.
public struct NonInviteClientTransaction: ClientTransactionMachine, TransactionStateMachine, Sendable {
    public enum State: Hashable, Sendable { case trying, proceeding, completed, terminated }

    public internal(set) var state: State = .trying
    var core: TransactionCore

    public init(request: SIPMessage, settings: TransactionSettings = TransactionSettings()) {
        core = TransactionCore(invite: false, request, settings)
    }

    static var terminatedState: State { .terminated }

    /// Sends the request and starts Timers E (unreliable transports only) and F.
    public mutating func start() -> [TransactionAction] {
        core.sendRequest(retransmitting: .E, timingOut: .F, after: settings.transactionTimeout)
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
            core.timers.cancelAll(into: &actions)
            actions.append(.deliver(response))
            state = .completed
            enterWaitState(.K, settings.timerK, into: &actions)
        default:
            // Completed buffers retransmitted finals (and stray provisionals) without telling the TU again.
            break
        }
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard let interval = core.timers.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch (state, timer) {
        case (.trying, .E):
            actions.append(.send(request))
            core.timers.start(.E, min(2 * interval, settings.t2), into: &actions)
        case (.proceeding, .E):
            actions.append(.send(request))
            core.timers.start(.E, settings.t2, into: &actions)
        case (.trying, .F), (.proceeding, .F):
            terminate(reporting: [.timedOut], into: &actions)
        case (.completed, .K):
            terminate(into: &actions)
        default:
            break
        }
        return actions
    }

}
