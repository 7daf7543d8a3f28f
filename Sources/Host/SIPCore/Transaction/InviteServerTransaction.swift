import NIOCore
import PluginAPI

/// RFC 3261 section 17.2.1, figure 7: the server side of an INVITE.
///
/// The RFC lets the transaction wait 200 ms for the TU's own provisional response before sending 100 Trying. A
/// B2BUA's TU forwards the INVITE and waits for the far side, which takes longer than that more often than not, so
/// this transaction sends 100 Trying as soon as it starts and spares a timer.
///
/// A 2xx from the TU ends the transaction (RFC 3261, not the Accepted state of RFC 6026): the TU retransmits the 2xx
/// until the ACK, and both the ACK and any retransmitted INVITE then reach the TU as requests matching no
/// transaction.
public struct InviteServerTransaction: ServerTransactionMachine, TransactionStateMachine, Sendable {
    public enum State: Hashable, Sendable { case proceeding, completed, confirmed, terminated }

    public internal(set) var state: State = .proceeding
    var core: TransactionCore
    /// The last provisional response sent, re-sent when the INVITE is retransmitted.
    public private(set) var lastProvisional: SIPMessage?
    /// The final response sent.
    public private(set) var finalResponse: SIPMessage?

    public init(request: SIPMessage, settings: TransactionSettings = TransactionSettings()) {
        core = TransactionCore(invite: true, request, settings)
    }

    static var terminatedState: State { .terminated }

    /// Sends 100 Trying and passes the INVITE to the TU.
    public mutating func start() -> [TransactionAction] {
        guard core.begin() else { return [] }
        let trying = Self.makeTrying(for: request)
        lastProvisional = trying
        return [.send(trying), .deliver(request)]
    }

    /// A request matching this transaction: a retransmitted INVITE, or the ACK for a 300-699.
    public mutating func receive(_ request: SIPMessage) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        switch (state, request.method) {
        case (.proceeding, "INVITE"):
            if let lastProvisional { actions.append(.send(lastProvisional)) }
        case (.completed, "INVITE"):
            if let finalResponse { actions.append(.send(finalResponse)) }
        case (.completed, "ACK"):
            core.timers.cancelAll(into: &actions)
            state = .confirmed
            enterWaitState(.I, settings.timerI, into: &actions)
        default:
            // Confirmed absorbs retransmitted ACKs (and INVITEs) until Timer I; an ACK in Proceeding is not ours.
            break
        }
        return actions
    }

    /// A response from the TU.
    public mutating func send(_ response: SIPMessage) -> [TransactionAction] {
        guard state == .proceeding, let status = response.statusCode else { return [] }
        var actions: [TransactionAction] = [.send(response)]
        switch status {
        case 100...199:
            lastProvisional = response
        case 200...299:
            finalResponse = response
            terminate(into: &actions)
        default:
            finalResponse = response
            state = .completed
            if !settings.reliableTransport { core.timers.start(.G, settings.t1, into: &actions) }
            core.timers.start(.H, settings.transactionTimeout, into: &actions)
        }
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard let interval = core.timers.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch (state, timer) {
        case (.completed, .G):
            if let finalResponse { actions.append(.send(finalResponse)) }
            core.timers.start(.G, min(2 * interval, settings.t2), into: &actions)
        case (.completed, .H):
            terminate(reporting: [.timedOut], into: &actions)
        case (.confirmed, .I):
            terminate(into: &actions)
        default:
            break
        }
        return actions
    }

    /// 100 Trying for a request (RFC 3261 section 8.2.6.1): Via, From, To, Call-ID and CSeq copied as received, and
    /// Timestamp when there is one. No To tag: a 100 creates no dialog.
    public static func makeTrying(for request: SIPMessage) -> SIPMessage {
        // Into one array sized for the request: a filtered array per name, appended, was most of the cost.
        var headers: [SIPHeader] = []
        headers.reserveCapacity(request.headers.count)
        for name in ["via", "from", "to", "call-id", "cseq", "timestamp"] {
            for field in request.headers where field.hasName(name) { headers.append(field) }
        }
        return SIPMessage(
            startLine: .response(version: request.transactionSIPVersion, status: 100, reason: "Trying"),
            headers: headers)
    }
}
