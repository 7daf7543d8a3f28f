import NIOCore
import PluginAPI

/// Misuse of `TransactionLayer.sendRequest`, reported before anything is sent.
public enum TransactionLayerError: Error, Hashable, Sendable {
    /// An ACK is not a transaction: the ACK for a 300-699 belongs to the INVITE transaction, the ACK for a 2xx is
    /// sent by the TU straight to the transport.
    case ackIsNotATransaction
    /// The top Via has no branch starting with `z9hG4bK`; responses could never be matched to the request.
    case missingRFC3261Branch
    /// A client transaction with this key is already in flight (a reused branch).
    case duplicateTransaction(TransactionKey)
}

/// Runs the transaction state machines of one event loop: it keeps the transactions by key, hands their messages to
/// the transport through `send`, runs their timers with `scheduleTask` on the loop, and tells the TU what it must
/// handle.
///
/// The layer is confined to its event loop and is deliberately not `Sendable`: create it, and call it, on that loop
/// only (each loop has its own layer, so no locks are needed). Callbacks run on the loop, synchronously, and may call
/// back into the layer.
///
/// `Destination` is whatever the transport needs to send a message back out (an address, a connection, a peer):
/// the layer stores it and passes it back to `send` untouched. Responses of a server transaction go to the
/// `Destination` its request came from; applying RFC 3261 section 18.2.2 (Via `received`/`rport`, connection reuse)
/// is the transport's business.
public final class TransactionLayer<Destination> {
    public let eventLoop: any EventLoop
    /// The loop's timer queue; the layer's timers run on it, and so may the TU's (a call's ring timeout).
    public let timers: TimerQueue
    /// The timers of every transaction; `reliableTransport` is the default when a call does not say.
    public let settings: TransactionSettings
    /// Called when a server transaction gives up: Timer H fired (no ACK for a 300-699) or the transport failed.
    /// The request is the one that created the transaction.
    public var onServerFailure: ((_ request: SIPMessage, _ failure: TransactionFailure) -> Void)?

    private let send: (SIPMessage, Destination) -> Void
    private var clients: [TransactionKey: ClientEntry] = [:]
    private var servers: [TransactionKey: ServerEntry] = [:]
    /// RFC 2543 ACK keys (the INVITE's key with the To tag of the final response) to the INVITE server transaction.
    private var ackAliases: [TransactionKey: TransactionKey] = [:]

    // Pre-specialised for the engine's destination type: the shard that uses this layer is in another module,
    // which would otherwise run the generic code (18 % more instructions per call, bench-callgrind).
    // swift-format writes `exported:true,where`, hence the ignore.
    // swift-format-ignore
    @_specialize(exported: true, where Destination == SIPDestination)
    public init(
        eventLoop: any EventLoop, settings: TransactionSettings = TransactionSettings(),
        send: @escaping (SIPMessage, Destination) -> Void
    ) {
        self.eventLoop = eventLoop
        self.timers = TimerQueue(eventLoop: eventLoop)
        self.settings = settings
        self.send = send
    }

    // MARK: What the engine calls

    /// Starts a client transaction: sends `request` to `destination` and retransmits it as its transport needs.
    ///
    /// `onResponse` gets every provisional response and the final response once (an INVITE's 2xx included; later
    /// 2xx retransmissions come back from `receive` as unmatched). `onFailure` gets a timeout (Timer B or F: treat
    /// it as 408) or a transport error (treat it as 503), after which nothing more is called.
    ///
    /// `timerB` replaces 64*T1 as Timer B of an INVITE (a peer's `invite_timeout`); other methods ignore it.
    // swift-format-ignore
    @discardableResult
    @_specialize(exported: true, where Destination == SIPDestination)
    public func sendRequest(
        _ request: SIPMessage, to destination: Destination, reliableTransport: Bool? = nil, timerB: TimeAmount? = nil,
        onResponse: @escaping (SIPMessage) -> Void, onFailure: @escaping (TransactionFailure) -> Void
    ) throws(TransactionLayerError) -> TransactionKey {
        eventLoop.assertInEventLoop()
        guard request.method != "ACK" else { throw .ackIsNotATransaction }
        guard let key = TransactionKey(request: request), key.isRFC3261 else { throw .missingRFC3261Branch }
        guard clients[key] == nil else { throw .duplicateTransaction(key) }
        var settings = self.settings.with(reliableTransport: reliableTransport ?? self.settings.reliableTransport)
        if let timerB { settings.timerB = timerB }
        let machine: any ClientTransactionMachine =
            request.method == "INVITE"
            ? InviteClientTransaction(request: request, settings: settings)
            : NonInviteClientTransaction(request: request, settings: settings)
        let entry = ClientEntry(
            key: key, machine: machine, destination: destination, onResponse: onResponse, onFailure: onFailure)
        clients[key] = entry
        perform(entry.machine.start(), for: entry)
        return key
    }

    /// The brief's shape: a timeout and a transport error both reach `onTimeout`.
    // swift-format-ignore
    @discardableResult
    @_specialize(exported: true, where Destination == SIPDestination)
    public func sendRequest(
        _ request: SIPMessage, to destination: Destination, reliableTransport: Bool? = nil,
        onResponse: @escaping (SIPMessage) -> Void, onTimeout: @escaping () -> Void
    ) throws(TransactionLayerError) -> TransactionKey {
        try sendRequest(
            request, to: destination, reliableTransport: reliableTransport, onResponse: onResponse,
            onFailure: { _ in onTimeout() })
    }

    /// Feeds a message from the transport. Returns the message when the TU must handle it itself:
    /// - a request that starts a new server transaction (created before this returns, with 100 Trying already sent
    ///   for an INVITE), the TU answering it with `respond(_:to:)`;
    /// - an ACK matching no INVITE server transaction (the ACK for a 2xx);
    /// - a response matching no client transaction (a 2xx retransmission, or a stray).
    ///
    /// Returns nil when a transaction absorbed the message (a retransmission, the ACK for a 300-699), when a
    /// response went to its `onResponse`, or when a request has no top Via to key a transaction on (it cannot be
    /// answered either, so it is dropped).
    // swift-format-ignore
    @_specialize(exported: true, where Destination == SIPDestination)
    public func receive(
        _ message: SIPMessage, from source: Destination, reliableTransport: Bool? = nil
    ) -> SIPMessage? {
        eventLoop.assertInEventLoop()
        if !message.isRequest {
            guard let key = TransactionKey(response: message), let entry = clients[key] else { return message }
            perform(entry.machine.receive(message), for: entry)
            return nil
        }
        guard let key = TransactionKey(request: message) else { return nil }
        if let entry = serverEntry(for: key) {
            perform(entry.machine.receive(message), for: entry)
            return nil
        }
        if message.method == "ACK" { return message }
        let settings = self.settings.with(reliableTransport: reliableTransport ?? self.settings.reliableTransport)
        let machine: any ServerTransactionMachine =
            message.method == "INVITE"
            ? InviteServerTransaction(request: message, settings: settings)
            : NonInviteServerTransaction(request: message, settings: settings)
        let entry = ServerEntry(key: key, machine: machine, source: source)
        servers[key] = entry
        return perform(entry.machine.start(), for: entry)
    }

    /// Sends a response from the TU through the server transaction of `request`. Returns false when nothing was
    /// sent: the transaction has ended (the TU retransmits a 2xx to an INVITE itself, straight to the transport),
    /// the request never created one, or it already has its final response (a second one is discarded).
    // swift-format-ignore
    @discardableResult
    @_specialize(exported: true, where Destination == SIPDestination)
    public func respond(_ response: SIPMessage, to request: SIPMessage) -> Bool {
        eventLoop.assertInEventLoop()
        guard let key = TransactionKey(request: request), let entry = servers[key] else { return false }
        let actions = entry.machine.send(response)
        if !key.isRFC3261, !actions.isEmpty, entry.machine.request.method == "INVITE", let status = response.statusCode,
            status >= 300
        {
            // RFC 2543 peers: the ACK will carry this response's To tag, which the INVITE did not have.
            let alias = key.replacingToTag(with: response.toTag)
            if alias != key {
                ackAliases[alias] = key
                entry.aliases.append(alias)
            }
        }
        perform(actions, for: entry)
        return !actions.isEmpty
    }

    /// The transport could not send `message` (a connection refused or reset, an ICMP error): the transaction that
    /// sent it ends, and its TU hears of it. Returns false when no transaction sent it.
    // swift-format-ignore
    @discardableResult
    @_specialize(exported: true, where Destination == SIPDestination)
    public func transportFailed(sending message: SIPMessage) -> Bool {
        eventLoop.assertInEventLoop()
        if message.isRequest {
            guard let key = TransactionKey(request: message), let entry = clients[key] else { return false }
            perform(entry.machine.transportFailed(), for: entry)
        } else {
            // A response travels in the Via of the request, so its key is the server transaction's.
            guard let key = TransactionKey(response: message), let entry = servers[key] else { return false }
            perform(entry.machine.transportFailed(), for: entry)
        }
        return true
    }

    /// The INVITE a CANCEL targets, while its server transaction has not sent a final response yet: the TU then
    /// answers the CANCEL with 200 and the INVITE with 487 (RFC 3261 section 9.2).
    // swift-format-ignore
    @_specialize(exported: true, where Destination == SIPDestination)
    public func pendingInvite(cancelledBy cancel: SIPMessage) -> SIPMessage? {
        eventLoop.assertInEventLoop()
        guard cancel.method == "CANCEL", let key = TransactionKey(request: cancel)?.replacingMethod(with: "INVITE"),
            let machine = servers[key]?.machine as? InviteServerTransaction, machine.state == .proceeding
        else { return nil }
        return machine.request
    }

    /// Forgets every transaction and cancels its timers without calling anyone: for shutting the loop down.
    public func removeAll() {
        eventLoop.assertInEventLoop()
        for entry in clients.values { entry.cancelTimers(in: timers) }
        for entry in servers.values { entry.cancelTimers(in: timers) }
        clients.removeAll()
        servers.removeAll()
        ackAliases.removeAll()
    }

    public var clientTransactionCount: Int { clients.count }
    public var serverTransactionCount: Int { servers.count }
    /// Transactions in flight, client and server.
    public var count: Int { clients.count + servers.count }

    public func hasClientTransaction(_ key: TransactionKey) -> Bool { clients[key] != nil }
    public func hasServerTransaction(_ key: TransactionKey) -> Bool { serverEntry(for: key) != nil }

    // MARK: Running the machines

    private func serverEntry(for key: TransactionKey) -> ServerEntry? {
        servers[key] ?? ackAliases[key].flatMap { servers[$0] }
    }

    private func perform(_ actions: [TransactionAction], for entry: ClientEntry) {
        // The TU hears of the outcome after the bookkeeping, so a callback that calls back into the layer sees the
        // transaction in its new state (gone, if it ended).
        var callbacks: [() -> Void] = []
        for action in actions {
            switch action {
            case .send(let message):
                send(message, entry.destination)
            case .deliver(let response):
                callbacks.append { entry.onResponse(response) }
            case .startTimer(let timer, let delay):
                schedule(timer, in: delay, for: entry) { [weak self] in
                    self?.perform(entry.machine.timerFired(timer), for: entry)
                }
            case .cancelTimer(let timer):
                entry.cancelTimer(timer, in: timers)
            case .timedOut:
                callbacks.append { entry.onFailure(.timeout) }
            case .transportError:
                callbacks.append { entry.onFailure(.transportError) }
            case .terminated:
                remove(entry)
            }
        }
        for callback in callbacks { callback() }
    }

    /// Returns the request the machine delivered, if any.
    @discardableResult
    private func perform(_ actions: [TransactionAction], for entry: ServerEntry) -> SIPMessage? {
        var delivered: SIPMessage?
        var failures: [TransactionFailure] = []
        for action in actions {
            switch action {
            case .send(let message):
                send(message, entry.source)
            case .deliver(let request):
                delivered = request
            case .startTimer(let timer, let delay):
                schedule(timer, in: delay, for: entry) { [weak self] in
                    self?.perform(entry.machine.timerFired(timer), for: entry)
                }
            case .cancelTimer(let timer):
                entry.cancelTimer(timer, in: timers)
            case .timedOut:
                failures.append(.timeout)
            case .transportError:
                failures.append(.transportError)
            case .terminated:
                remove(entry)
            }
        }
        if let onServerFailure {
            for failure in failures { onServerFailure(entry.machine.request, failure) }
        }
        return delivered
    }

    private func schedule(
        _ timer: TransactionTimer, in delay: TimeAmount, for entry: Entry, fire: @escaping () -> Void
    ) {
        // A send that failed synchronously may already have ended the transaction while its actions still run.
        guard !entry.isRemoved else { return }
        entry.cancelTimer(timer, in: timers)
        // A cancelled timer never fires (the queue forgets it), so the handle needs no generation check. The timer
        // holds its entry strongly: removing an entry cancels its timers, which lets go of it, and a weak reference
        // would give every transaction a side table, one more allocation and free per transaction.
        entry.timers[timer] = timers.schedule(in: delay) {
            guard !entry.isRemoved else { return }
            entry.timers[timer] = nil
            fire()
        }
    }

    private func remove(_ entry: ClientEntry) {
        entry.cancelTimers(in: timers)
        entry.isRemoved = true
        if clients[entry.key] === entry { clients[entry.key] = nil }
    }

    private func remove(_ entry: ServerEntry) {
        entry.cancelTimers(in: timers)
        entry.isRemoved = true
        if servers[entry.key] === entry { servers[entry.key] = nil }
        for alias in entry.aliases where ackAliases[alias] == entry.key { ackAliases[alias] = nil }
    }

    // MARK: Entries

    private class Entry {
        let key: TransactionKey
        var timers = TimerSlots<TimerQueue.Handle>()
        var isRemoved = false

        init(key: TransactionKey) { self.key = key }

        func cancelTimer(_ timer: TransactionTimer, in queue: TimerQueue) {
            if let handle = timers.removeValue(forKey: timer) { queue.cancel(handle) }
        }

        func cancelTimers(in queue: TimerQueue) {
            timers.removeAll { queue.cancel($0) }
        }
    }

    private final class ClientEntry: Entry {
        var machine: any ClientTransactionMachine
        package let destination: Destination
        package let onResponse: (SIPMessage) -> Void
        package let onFailure: (TransactionFailure) -> Void

        package init(
            key: TransactionKey, machine: any ClientTransactionMachine, destination: Destination,
            onResponse: @escaping (SIPMessage) -> Void, onFailure: @escaping (TransactionFailure) -> Void
        ) {
            self.machine = machine
            self.destination = destination
            self.onResponse = onResponse
            self.onFailure = onFailure
            super.init(key: key)
        }
    }

    private final class ServerEntry: Entry {
        var machine: any ServerTransactionMachine
        package let source: Destination
        var aliases: [TransactionKey] = []

        package init(key: TransactionKey, machine: any ServerTransactionMachine, source: Destination) {
            self.machine = machine
            self.source = source
            super.init(key: key)
        }
    }
}

@available(*, unavailable, message: "a TransactionLayer is confined to its event loop")
extension TransactionLayer: Sendable {}
