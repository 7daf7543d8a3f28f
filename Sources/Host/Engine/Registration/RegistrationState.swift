import Routing
import SIPCore

/// The client side of one registration binding (RFC 3261 section 10.2) as a value: events in, actions out, no I/O
/// and no clock, so every path (challenge, refresh, 423, back-off) is tested without a network.
///
/// ```
///  Patchbay                          registrar
///     | REGISTER (Expires: N) ----------> |
///     | <------------- 401 (challenge) -- |
///     | REGISTER + Authorization -------> |
///     | <------------ 200 (expires=M) --- |    registered; refresh timer M - min(30, M/2) s
///     | ...                               |
///     | REGISTER (refresh, same Call-ID) > |
/// ```
struct RegistrationState: Equatable {
    enum Phase: Equatable {
        case unregistered
        /// A REGISTER is out; `answered` says whether it carries our answer to a challenge.
        case registering(answered: Bool)
        case registered(expires: Int)
        /// The last attempt failed; the next starts when the timer fires.
        case retrying(after: Double)
    }

    enum Event: Equatable {
        case start
        case challenged(DigestChallenge)
        /// A 2xx with the lifetime the registrar granted for our binding.
        case accepted(expires: Int)
        /// A final response that is neither 2xx nor a challenge.
        case rejected(status: Int, reason: String, retryAfter: Int?, minExpires: Int?)
        /// Timer F, a transport error, or a challenge that cannot be answered.
        case failed(String)
        case timerFired
    }

    package enum Action: Equatable {
        /// Send a REGISTER asking for `expires`, answering `challenge` when given.
        case sendRegister(expires: Int, answering: DigestChallenge?)
        case startTimer(seconds: Double)
        case reportRegistered(expires: Int)
        case reportFailed(reason: String, retryIn: Double)
    }

    private(set) var phase: Phase = .unregistered
    /// What the next REGISTER asks for: the configured value, or a registrar's Min-Expires after a 423.
    private(set) var requestedExpires: Int
    private(set) var nextBackoff: Double
    package let retryMin: Double
    package let retryMax: Double
    let canAnswerChallenges: Bool

    package init(expires: Int, retryMin: Double, retryMax: Double, canAnswerChallenges: Bool) {
        requestedExpires = expires
        self.retryMin = retryMin
        self.retryMax = max(retryMax, retryMin)
        self.canAnswerChallenges = canAnswerChallenges
        nextBackoff = retryMin
    }

    /// Refresh well before the binding lapses: 30 s early for long bindings, half-way for short ones.
    static func refreshDelay(forExpires expires: Int) -> Double {
        let e = Double(max(1, expires))
        return e - min(30, e / 2)
    }

    package mutating func handle(_ event: Event) -> [Action] {
        switch (phase, event) {
        case (.unregistered, .start), (.registered, .timerFired), (.retrying, .timerFired):
            phase = .registering(answered: false)
            return [.sendRegister(expires: requestedExpires, answering: nil)]

        case (.registering(let answered), .challenged(let challenge)):
            guard canAnswerChallenges else { return fail("challenged for credentials, but the peer has no 'auth'") }
            if let reason = challenge.unsupportedReason { return fail(reason) }
            // A second challenge after our answer means the credentials were refused, unless the server says only
            // the nonce went stale.
            if answered && !challenge.stale {
                return fail("credentials refused (challenged again, realm \"\(challenge.realm)\")")
            }
            phase = .registering(answered: true)
            return [.sendRegister(expires: requestedExpires, answering: challenge)]

        case (.registering, .accepted(let expires)):
            phase = .registered(expires: expires)
            nextBackoff = retryMin
            return [.reportRegistered(expires: expires), .startTimer(seconds: Self.refreshDelay(forExpires: expires))]

        case (.registering, .rejected(423, _, _, let minExpires?)) where minExpires > requestedExpires:
            // Interval Too Brief (RFC 3261 section 10.2.8): ask again at once for what the registrar demands.
            requestedExpires = minExpires
            phase = .registering(answered: false)
            return [.sendRegister(expires: requestedExpires, answering: nil)]

        case (.registering, .rejected(let status, let reason, let retryAfter, _)):
            return fail("\(status) \(reason)", retryAfter: retryAfter.map(Double.init))

        case (.registering, .failed(let reason)):
            return fail(reason)

        default:
            // Late or duplicate events (a response after we gave up, a timer racing a response) change nothing.
            return []
        }
    }

    private mutating func fail(_ reason: String, retryAfter: Double? = nil) -> [Action] {
        let wait = retryAfter.map { min(max($0, retryMin), retryMax) } ?? nextBackoff
        nextBackoff = min(nextBackoff * 2, retryMax)
        phase = .retrying(after: wait)
        return [.reportFailed(reason: reason, retryIn: wait), .startTimer(seconds: wait)]
    }
}
