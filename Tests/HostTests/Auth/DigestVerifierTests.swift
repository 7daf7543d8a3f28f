import PluginAPI
import Testing

@testable import Engine
@testable import Harness
@testable import Routing
@testable import SIPCore

/// Patchbay's challenge answered by Patchbay's own client code (a round trip), and what must be refused.
struct DigestVerifierTests {
    let verifier = DigestVerifier(secret: "test-secret")

    func request(answering challenge: String, password: String, now: UInt64 = 1000) throws -> SIPMessage {
        let c = try #require(DigestChallenge(challenge))
        let answer = try #require(
            c.answer(method: "INVITE", uri: "sip:+4930123@pb", username: "pbx", password: password, cnonce: "c1"))
        let text = "INVITE sip:+4930123@pb SIP/2.0\r\nAuthorization: \(answer)\r\nContent-Length: 0\r\n\r\n"
        return try SIPMessage(bytes: Array(text.utf8))
    }

    func verify(_ m: SIPMessage, now: UInt64) -> DigestVerifier.Outcome {
        verifier.verify(m, method: "INVITE", username: "pbx", password: "pw", realm: "r", now: now)
    }

    @Test func ownChallengeAnsweredRightIsAccepted() throws {
        let m = try request(answering: verifier.challenge(realm: "r", now: 1000), password: "pw")
        #expect(verify(m, now: 1010) == .accepted)
    }

    @Test func wrongPasswordForgedNonceAndOldNonce() throws {
        let wrong = try request(answering: verifier.challenge(realm: "r", now: 1000), password: "guess")
        #expect(verify(wrong, now: 1010) == .refused("wrong password"))
        let forged = try request(answering: #"Digest realm="r", nonce="3e8.0000", qop="auth""#, password: "pw")
        #expect(verify(forged, now: 1010) == .refused("a nonce Patchbay did not give"))
        let other = DigestVerifier(secret: "another process")
        let foreign = try request(answering: other.challenge(realm: "r", now: 1000), password: "pw")
        #expect(verify(foreign, now: 1010) == .refused("a nonce Patchbay did not give"))
        let old = try request(answering: verifier.challenge(realm: "r", now: 1000), password: "pw")
        #expect(verify(old, now: 1000 + 301) == .stale)
    }

    @Test func noAnswerForThisRealmIsMissing() throws {
        let m = try request(answering: verifier.challenge(realm: "elsewhere", now: 1000), password: "pw")
        #expect(verify(m, now: 1000) == .missing)
    }
}
