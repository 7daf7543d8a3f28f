import NIOCore
import PluginAPI

/// RFC 3261 section 17.1.1, figure 5: the client side of an INVITE.
///
/// Two deliberate readings of the RFC:
/// - Timer B is cancelled on the first provisional response. Figure 5 only acts on B in Calling; once the far end
///   has answered with a 1xx, how long to let it ring is the TU's decision (a CANCEL, or Timer C in a proxy).
/// - A 2xx ends the transaction at once and is delivered; the ACK for it, and 2xx retransmissions (which then match
///   no transaction), belong to the TU and the dialog (section 13.2.2.4).
public struct InviteClientTransaction: ClientTransactionMachine, TransactionStateMachine, Sendable {
    public enum State: Hashable, Sendable { case calling, proceeding, completed, terminated }

    public internal(set) var state: State = .calling
    var core: TransactionCore
    /// The ACK sent for a 300-699, kept to answer retransmissions of that response.
    public private(set) var ack: SIPMessage?

    public init(request: SIPMessage, settings: TransactionSettings = TransactionSettings()) {
        core = TransactionCore(invite: true, request, settings)
    }

    static var terminatedState: State { .terminated }

    /// Sends the INVITE and starts Timers A (unreliable transports only) and B.
    public mutating func start() -> [TransactionAction] {
        core.sendRequest(retransmitting: .A, timingOut: .B, after: settings.inviteTimeout)
    }

    public mutating func receive(_ response: SIPMessage) -> [TransactionAction] {
        guard let status = response.statusCode else { return [] }
        var actions: [TransactionAction] = []
        switch (state, status) {
        case (.calling, 100...199), (.proceeding, 100...199):
            core.timers.cancel(.A, into: &actions)
            core.timers.cancel(.B, into: &actions)
            state = .proceeding
            actions.append(.deliver(response))
        case (.calling, 200...299), (.proceeding, 200...299):
            terminate(reporting: [.deliver(response)], into: &actions)
        case (.calling, 300...699), (.proceeding, 300...699):
            core.timers.cancelAll(into: &actions)
            let ack = Self.makeACK(for: request, response: response)
            self.ack = ack
            actions.append(.deliver(response))
            actions.append(.send(ack))
            state = .completed
            enterWaitState(.D, settings.timerD, into: &actions)
        case (.completed, 300...699):
            // A retransmission: our ACK was lost. The TU has the response already.
            if let ack { actions.append(.send(ack)) }
        default:
            break
        }
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard let interval = core.timers.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch (state, timer) {
        case (.calling, .A):
            // No T2 cap for INVITE: A doubles until B ends the transaction (seven sends in all with default T1).
            actions.append(.send(request))
            core.timers.start(.A, 2 * interval, into: &actions)
        case (.calling, .B):
            terminate(reporting: [.timedOut], into: &actions)
        case (.completed, .D):
            terminate(into: &actions)
        default:
            break
        }
        return actions
    }

    /// The ACK for a 300-699 (RFC 3261 section 17.1.1.3): it is part of the INVITE transaction, so it goes to the
    /// same place with the same top Via (and branch), Request-URI and Route set, and takes the To tag of the
    /// response.
    public static func makeACK(for request: SIPMessage, response: SIPMessage) -> SIPMessage {
        var uri = ""
        if case .request(_, let requestURI, _) = request.startLine { uri = requestURI }
        var headers: [SIPHeader] = []
        if let viaField = request.headers.first(where: { $0.hasName("via") }),
            let topVia = request.values("Via").first
        {
            headers.append(SIPHeader(viaField.name, topVia))
        }
        headers.append(SIPHeader("Max-Forwards", "70"))
        headers += request.headers.filter { $0.hasName("route") }
        headers += request.headers.filter { $0.hasName("from") }
        headers += response.headers.filter { $0.hasName("to") }
        headers += request.headers.filter { $0.hasName("call-id") }
        if let cseq = request.cseq { headers.append(SIPHeader("CSeq", "\(cseq.number) ACK")) }
        return SIPMessage(
            startLine: .request(method: "ACK", uri: uri, version: request.transactionSIPVersion), headers: headers)
    }
}
