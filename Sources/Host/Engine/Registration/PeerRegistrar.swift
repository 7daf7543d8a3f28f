import Logging
import NIOCore
import PluginAPI
import Routing
import SIPCore

/// Keeps the site registered at every peer with a `registration:` block: drives one `RegistrationState` per peer,
/// turning its actions into REGISTER requests (one Call-ID per binding, CSeq counting up, RFC 3261 section
/// 10.2.4), timers and log lines. Runs on one shard's loop, like the health monitor; responses find it through
/// that shard's client transactions (our Call-IDs carry the shard).
final class PeerRegistrar: @unchecked Sendable {
    // @unchecked: used only on its shard's loop, and its timers fire there.
    private struct Binding {
        var registration: PatchbayConfiguration.Registration
        var credentials: PatchbayConfiguration.Credentials?
        var destination: SIPDestination
        /// The peer's host name as configured, when it is given by one: the address-of-record's domain.
        var name: String?
        var state: RegistrationState
        let callID: String
        let fromTag: String
        var cseq: UInt32 = 0
        var timer: Scheduled<Void>?
        /// Bumped when the binding is replaced, so a response to the old one's REGISTER changes nothing.
        let generation: Int
    }

    private let shard: Shard
    private var bindings: [String: Binding] = [:]
    private var generations = 0

    package init(shard: Shard) { self.shard = shard }

    /// Where each registration stands, for logs, tests and the status page.
    var phases: [String: RegistrationState.Phase] { bindings.mapValues(\.state.phase) }

    /// (Re)starts registrations for `site`. A binding whose configuration did not change keeps running across a
    /// reload; a changed one starts over; a removed one stops (the registrar lets it lapse). Also run on every DNS
    /// answer: a peer given by name registers once it has an address, and again elsewhere when its server is gone.
    package func start(_ site: Site) {
        var wanted: Set<String> = []
        for peer in site.configuration.peers {
            guard let registration = peer.registration, let destination = shard.address(of: peer.name) else { continue }
            wanted.insert(peer.name)
            // A binding stays with its server while DNS still gives it (SRV weights reorder the rest per call).
            if let b = bindings[peer.name], b.registration == registration, b.credentials == peer.credentials,
                b.destination.address == destination.address
                    || shard.allDestinations(of: peer.name).contains(where: { $0.address == b.destination.address })
            {
                continue
            }
            bindings[peer.name]?.timer?.cancel()
            generations += 1
            bindings[peer.name] = Binding(
                registration: registration, credentials: peer.credentials, destination: destination,
                name: peer.addresses.first.flatMap {
                    guard $0.isHostName else { return nil }
                    return $0.portGiven && $0.port != 5060 ? "\($0.host):\($0.port)" : $0.host
                },
                state: RegistrationState(
                    expires: registration.expires, retryMin: registration.retryMin, retryMax: registration.retryMax,
                    canAnswerChallenges: peer.credentials != nil),
                callID: shard.newCallID(), fromTag: shard.newTag(), generation: generations)
            handle(peer.name, .start, generation: generations)
        }
        for name in bindings.keys where !wanted.contains(name) {
            bindings[name]?.timer?.cancel()
            bindings[name] = nil
        }
    }

    package func stop() {
        for (_, b) in bindings { b.timer?.cancel() }
        bindings = [:]
    }

    private func handle(_ peer: String, _ event: RegistrationState.Event, generation: Int) {
        guard var b = bindings[peer], b.generation == generation else { return }
        let actions = b.state.handle(event)
        bindings[peer] = b
        for action in actions { perform(action, for: peer, generation: generation) }
    }

    private func perform(_ action: RegistrationState.Action, for peer: String, generation: Int) {
        guard var b = bindings[peer] else { return }
        switch action {
        case .sendRegister(let expires, let challenge):
            b.cseq += 1
            bindings[peer] = b
            guard let register = makeRegister(b, expires: expires, answering: challenge) else {
                return handle(peer, .failed("cannot answer the challenge"), generation: generation)
            }
            shard.sendRequest(register, to: b.destination) { [weak self] event in
                self?.handle(peer, Self.event(for: event, binding: b, requested: expires), generation: generation)
            }
        case .startTimer(let seconds):
            b.timer?.cancel()
            b.timer = shard.loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { [weak self] in
                self?.handle(peer, .timerFired, generation: generation)
            }
            bindings[peer] = b
        case .reportRegistered(let expires):
            shard.logger.notice(
                "registered",
                metadata: [
                    "peer": "\(peer)", "aor": "\(aor(b))", "expires": "\(expires)",
                    "refresh_in": "\(RegistrationState.refreshDelay(forExpires: expires))",
                ])
        case .reportFailed(let reason, let retryIn):
            shard.logger.warning(
                "registration failed",
                metadata: ["peer": "\(peer)", "aor": "\(aor(b))", "reason": "\(reason)", "retry_in": "\(retryIn)"])
        }
    }

    /// What a REGISTER's outcome means to the state machine.
    private static func event(for event: ClientEvent, binding: Binding, requested: Int) -> RegistrationState.Event {
        guard case .response(let r) = event, let status = r.statusCode else {
            return .failed("no answer (timeout or transport error)")
        }
        switch status {
        case 200..<300:
            let granted = grantedExpires(r) ?? requested
            return granted > 0 ? .accepted(expires: granted) : .failed("registrar granted 0 seconds")
        case 401, 407:
            guard let challenge = DigestChallenge.preferred(in: r, realm: binding.credentials?.realm) else {
                return .failed("\(status) without a digest challenge we can answer")
            }
            return .challenged(challenge)
        default:
            let reason: String
            if case .response(_, _, let phrase) = r.startLine { reason = phrase } else { reason = "" }
            return .rejected(
                status: status, reason: reason,
                retryAfter: r.header("Retry-After").flatMap { Int($0.prefix { $0.isNumber }) },
                minExpires: r.header("Min-Expires").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        }
    }

    /// RFC 3261 section 10.2.4: the expires parameter of our Contact in the 2xx, else the Expires header. Only one
    /// binding is ever ours here, so the first Contact with an expires parameter is taken when several are listed.
    private static func grantedExpires(_ r: SIPMessage) -> Int? {
        for contact in r.nameAddresses("Contact") {
            if let e = contact.parameters[parameter: "expires"], let n = Int(e) { return n }
        }
        return r.header("Expires").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    private func domain(_ b: Binding) -> String {
        if let d = b.registration.domain ?? b.name { return d }
        let ip = b.destination.address.ipAddress ?? "invalid"
        let host = ip.contains(":") ? "[\(ip)]" : ip
        let port = b.destination.address.port ?? 5060
        return port == 5060 ? host : "\(host):\(port)"
    }

    private func aor(_ b: Binding) -> String { "sip:\(b.registration.user)@\(domain(b))" }

    private func makeRegister(_ b: Binding, expires: Int, answering challenge: DigestChallenge?) -> SIPMessage? {
        let uri = "sip:\(domain(b))"
        var register = SIPMessage(
            startLine: .request(method: "REGISTER", uri: uri, version: "SIP/2.0"),
            headers: [
                SIPHeader("Via", shard.via(for: b.destination)), SIPHeader("Max-Forwards", "70"),
                SIPHeader("From", "<\(aor(b))>;tag=\(b.fromTag)"), SIPHeader("To", "<\(aor(b))>"),
                SIPHeader("Call-ID", b.callID), SIPHeader("CSeq", "\(b.cseq) REGISTER"),
                SIPHeader("Contact", shard.contact(user: b.registration.user, for: b.destination)),
                SIPHeader("Expires", String(expires)), SIPHeader("Allow", Relay.allow),
            ])
        if let challenge {
            guard let credentials = b.credentials,
                let value = challenge.answer(
                    method: "REGISTER", uri: uri, username: credentials.username, password: credentials.password,
                    cnonce: DigestChallenge.cnonce())
            else { return nil }
            register.headers.append(SIPHeader(challenge.answerHeader, value))
        }
        return register
    }
}
