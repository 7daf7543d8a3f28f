import NIOCore
import PluginAPI

/// RFC 3261 section 17.2.2, figure 8: the server side of every request but INVITE and ACK (CANCEL included).
public struct NonInviteServerTransaction: ServerTransactionMachine, TransactionStateMachine, Sendable {
    public enum State: Hashable, Sendable { case trying, proceeding, completed, terminated }

    public internal(set) var state: State = .trying
    var core: TransactionCore
    public private(set) var lastProvisional: SIPMessage?
    public private(set) var finalResponse: SIPMessage?

    public init(request: SIPMessage, settings: TransactionSettings = TransactionSettings()) {
        core = TransactionCore(invite: false, request, settings)
    }

    static var terminatedState: State { .terminated }

    /// Passes the request to the TU.
    public mutating func start() -> [TransactionAction] {
        guard core.begin() else { return [] }
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
        enterWaitState(.J, settings.timerJ, into: &actions)
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard core.timers.fired(timer) != nil, state == .completed, timer == .J else { return [] }
        var actions: [TransactionAction] = []
        terminate(into: &actions)
        return actions
    }

}
