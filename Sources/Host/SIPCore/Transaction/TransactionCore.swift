import NIOCore
import PluginAPI

/// What every transaction machine holds besides its state: its request, its settings, the timers it runs, and
/// whether it has started.
struct TransactionCore: Sendable {
    let request: SIPMessage
    let settings: TransactionSettings
    var timers = RunningTimers()
    private(set) var started = false

    /// The core of an INVITE transaction (`invite`) or of a non-INVITE one, which takes any request but INVITE
    /// and ACK (an ACK for a 2xx has no transaction, RFC 3261 section 17).
    init(invite: Bool, _ request: SIPMessage, _ settings: TransactionSettings) {
        precondition(
            request.isRequest
                && (invite ? request.method == "INVITE" : request.method != "INVITE" && request.method != "ACK"),
            invite
                ? "an INVITE transaction needs an INVITE"
                : "a non-INVITE transaction needs a request other than INVITE and ACK")
        self.request = request
        self.settings = settings
    }

    /// True the first time only: a machine starts once, and starting it again sends nothing.
    mutating func begin() -> Bool {
        defer { started = true }
        return !started
    }

    /// A client machine's start: the request sent, its retransmission timer at T1 (on an unreliable transport
    /// only) and its timeout. Nothing the second time.
    mutating func sendRequest(
        retransmitting retransmit: TransactionTimer, timingOut timeout: TransactionTimer, after interval: TimeAmount
    ) -> [TransactionAction] {
        guard begin() else { return [] }
        var actions: [TransactionAction] = [.send(request)]
        if !settings.reliableTransport { timers.start(retransmit, settings.t1, into: &actions) }
        timers.start(timeout, interval, into: &actions)
        return actions
    }
}
