import NIOCore
import PluginAPI

/// RFC 3261 section 17.1.1, figure 5: the client side of an INVITE.
///
/// Two deliberate readings of the RFC:
/// - Timer B is cancelled on the first provisional response. Figure 5 only acts on B in Calling; once the far end
///   has answered with a 1xx, how long to let it ring is the TU's decision (a CANCEL, or Timer C in a proxy).
/// - A 2xx ends the transaction at once and is delivered; the ACK for it, and 2xx retransmissions (which then match
///   no transaction), belong to the TU and the dialog (section 13.2.2.4).
public struct InviteClientTransaction: ClientTransactionMachine, Sendable {
    public enum State: Hashable, Sendable { case calling, proceeding, completed, terminated }

    public private(set) var state: State = .calling
    public let request: SIPMessage
    public let settings: TransactionSettings
    /// The ACK sent for a 300-699, kept to answer retransmissions of that response.
    public private(set) var ack: SIPMessage?
    private var timers = RunningTimers()
    private var started = false

    public init(request: SIPMessage, settings: TransactionSettings = TransactionSettings()) {
        precondition(request.isRequest && request.method == "INVITE", "an INVITE client transaction needs an INVITE")
        self.request = request
        self.settings = settings
    }

    public var isTerminated: Bool { state == .terminated }
    public var runningTimers: Set<TransactionTimer> { timers.names }

    /// Sends the INVITE and starts Timers A (unreliable transports only) and B.
    public mutating func start() -> [TransactionAction] {
        guard !started else { return [] }
        started = true
        var actions: [TransactionAction] = [.send(request)]
        if !settings.reliableTransport { timers.start(.A, settings.t1, into: &actions) }
        timers.start(.B, settings.inviteTimeout, into: &actions)
        return actions
    }

    public mutating func receive(_ response: SIPMessage) -> [TransactionAction] {
        guard let status = response.statusCode else { return [] }
        var actions: [TransactionAction] = []
        switch (state, status) {
        case (.calling, 100...199), (.proceeding, 100...199):
            timers.cancel(.A, into: &actions)
            timers.cancel(.B, into: &actions)
            state = .proceeding
            actions.append(.deliver(response))
        case (.calling, 200...299), (.proceeding, 200...299):
            terminate(reporting: [.deliver(response)], into: &actions)
        case (.calling, 300...699), (.proceeding, 300...699):
            timers.cancelAll(into: &actions)
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
        guard let interval = timers.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch (state, timer) {
        case (.calling, .A):
            // No T2 cap for INVITE: A doubles until B ends the transaction (seven sends in all with default T1).
            actions.append(.send(request))
            timers.start(.A, 2 * interval, into: &actions)
        case (.calling, .B):
            terminate(reporting: [.timedOut], into: &actions)
        case (.completed, .D):
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

    private mutating func enterWaitState(
        _ timer: TransactionTimer, _ interval: TimeAmount, into actions: inout [TransactionAction]
    ) {
        if interval > .zero {
            timers.start(timer, interval, into: &actions)
        } else {
            terminate(into: &actions)
        }
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
