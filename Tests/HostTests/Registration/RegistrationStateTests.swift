import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// The registration client as a ladder of events and the actions each one yields.
struct RegistrationStateTests {
    let challenge = DigestChallenge(#"Digest realm="itsp.example", nonce="n1""#)!

    func machine(credentials: Bool = true) -> RegistrationState {
        RegistrationState(expires: 600, retryMin: 30, retryMax: 120, canAnswerChallenges: credentials)
    }

    @Test func challengeAnswerAcceptRefresh() {
        var s = machine()
        #expect(s.handle(.start) == [.sendRegister(expires: 600, answering: nil)])
        #expect(s.handle(.challenged(challenge)) == [.sendRegister(expires: 600, answering: challenge)])
        #expect(s.handle(.accepted(expires: 300)) == [.reportRegistered(expires: 300), .startTimer(seconds: 270)])
        #expect(s.phase == .registered(expires: 300))
        // The refresh starts a fresh attempt: it may be challenged again and answered again.
        #expect(s.handle(.timerFired) == [.sendRegister(expires: 600, answering: nil)])
        #expect(s.handle(.challenged(challenge)) == [.sendRegister(expires: 600, answering: challenge)])
    }

    @Test func refreshDelayLeavesRoomBeforeExpiry() {
        #expect(RegistrationState.refreshDelay(forExpires: 3600) == 3570)
        #expect(RegistrationState.refreshDelay(forExpires: 60) == 30)
        #expect(RegistrationState.refreshDelay(forExpires: 2) == 1)
    }

    @Test func secondChallengeMeansRefusedUnlessStale() {
        var s = machine()
        _ = s.handle(.start)
        _ = s.handle(.challenged(challenge))
        var stale = challenge
        stale.stale = true
        #expect(s.handle(.challenged(stale)) == [.sendRegister(expires: 600, answering: stale)])
        let refused = s.handle(.challenged(challenge))
        #expect(
            refused.first.map { if case .reportFailed(let r, 30) = $0 { r.contains("refused") } else { false } } == true
        )
        #expect(s.phase == .retrying(after: 30))
    }

    @Test func backOffDoublesUpToTheMaximumAndResetsOnSuccess() {
        var s = machine()
        var waits: [Double] = []
        _ = s.handle(.start)
        for _ in 0..<4 {
            for case .startTimer(let w) in s.handle(.failed("no answer")) { waits.append(w) }
            _ = s.handle(.timerFired)
        }
        #expect(waits == [30, 60, 120, 120])
        _ = s.handle(.accepted(expires: 600))
        _ = s.handle(.timerFired)
        #expect(s.handle(.failed("no answer")).contains(.startTimer(seconds: 30)))
    }

    @Test func retryAfterIsHonouredWithinBounds() {
        var s = machine()
        _ = s.handle(.start)
        #expect(
            s.handle(.rejected(status: 503, reason: "Service Unavailable", retryAfter: 90, minExpires: nil))
                == [.reportFailed(reason: "503 Service Unavailable", retryIn: 90), .startTimer(seconds: 90)])
        _ = s.handle(.timerFired)
        #expect(
            s.handle(.rejected(status: 503, reason: "x", retryAfter: 3600, minExpires: nil)).contains(
                .startTimer(seconds: 120)))
    }

    @Test func intervalTooBriefAsksAgainForMinExpires() {
        var s = machine()
        _ = s.handle(.start)
        #expect(
            s.handle(.rejected(status: 423, reason: "Interval Too Brief", retryAfter: nil, minExpires: 1800))
                == [.sendRegister(expires: 1800, answering: nil)])
        #expect(s.requestedExpires == 1800)
        // A 423 that demands no more than we asked cannot be fixed by asking again: it is a failure.
        #expect(
            s.handle(.rejected(status: 423, reason: "Interval Too Brief", retryAfter: nil, minExpires: 1800)).count == 2
        )
    }

    @Test func challengeWithoutCredentialsFails() {
        var s = machine(credentials: false)
        _ = s.handle(.start)
        let actions = s.handle(.challenged(challenge))
        #expect(actions.count == 2)
        #expect(s.phase == .retrying(after: 30))
    }

    @Test func lateEventsChangeNothing() {
        var s = machine()
        #expect(s.handle(.accepted(expires: 60)).isEmpty, "not registering yet")
        _ = s.handle(.start)
        _ = s.handle(.accepted(expires: 60))
        #expect(s.handle(.challenged(challenge)).isEmpty, "a challenge to nothing outstanding")
        #expect(s.phase == .registered(expires: 60))
    }
}
