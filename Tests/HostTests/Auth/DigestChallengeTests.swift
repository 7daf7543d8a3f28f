import PluginAPI
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// Digest answers checked against known answers: RFC 2617 section 3.5's worked example, and values computed
/// independently with Python's hashlib for the cases that RFC does not cover.
struct DigestChallengeTests {
    @Test func rfc2617WorkedExample() throws {
        let c = try #require(
            DigestChallenge(
                #"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#
            ))
        #expect(c.qop == ["auth", "auth-int"])
        let answer = try #require(
            c.answer(
                method: "GET", uri: "/dir/index.html", username: "Mufasa", password: "Circle Of Life",
                cnonce: "0a4f113b"))
        #expect(answer.contains(#"response="6629fae49393a05397450978507c4ef1""#))
        #expect(
            answer.contains("qop=auth,") && answer.contains("nc=00000001") && answer.contains(#"cnonce="0a4f113b""#))
        #expect(answer.contains(#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#))
    }

    @Test func challengeWithoutQopIsAnsweredTheRFC2069Way() throws {
        let c = try #require(DigestChallenge(#"Digest realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#))
        let answer = try #require(
            c.answer(method: "INVITE", uri: "sip:bob@biloxi.com", username: "bob", password: "zanzibar", cnonce: "x"))
        #expect(answer.contains(#"response="bf57e4e0d0bffc0fbaedce64d59add5e""#))
        #expect(!answer.contains("qop") && !answer.contains("cnonce"), "no qop offered: none answered")
    }

    @Test func md5SessAndAuthInt() throws {
        let sess = try #require(
            DigestChallenge(#"Digest realm="atlanta.com",nonce="abc123",algorithm=MD5-sess,qop="auth""#))
        #expect(
            sess.answer(
                method: "REGISTER", uri: "sip:atlanta.com", username: "alice", password: "secret", cnonce: "0a4f113b")?
                .contains("5cbd1636d67701fd2fbdc0ccd00c359f") == true)
        let int = try #require(DigestChallenge(#"Digest realm="atlanta.com", nonce="abc123", qop="auth-int""#))
        #expect(
            int.answer(
                method: "INVITE", uri: "sip:x@y", username: "alice", password: "secret", cnonce: "c1", nonceCount: 2,
                body: Array("v=0\r\n".utf8))?.contains("834e2ce0ea900ef57ba8608927711c95") == true)
    }

    @Test func parsesStaleQuotedCommasAndCase() throws {
        let c = try #require(DigestChallenge(#"DIGEST realm="a, b", NONCE="n\"1", stale=TRUE, algorithm=md5"#))
        #expect(c.realm == "a, b")
        #expect(c.nonce == #"n"1"#)
        #expect(c.stale)
        #expect(c.unsupportedReason == nil)
    }

    @Test func refusesWhatItCannotAnswer() throws {
        #expect(DigestChallenge(#"Basic realm="x""#) == nil)
        #expect(DigestChallenge(#"Digest realm="x""#) == nil, "no nonce")
        let sha = try #require(DigestChallenge(#"Digest realm="x", nonce="y", algorithm=SHA-256"#))
        #expect(sha.unsupportedReason?.contains("SHA-256") == true)
        #expect(sha.answer(method: "INVITE", uri: "sip:a@b", username: "u", password: "p", cnonce: "c") == nil)
    }

    @Test func a407IsAnsweredInProxyAuthorization() throws {
        let text =
            "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nWWW-Authenticate: Digest realm=\"other\", nonce=\"m\"\r\nContent-Length: 0\r\n\r\n"
        let response = try SIPMessage(bytes: Array(text.utf8))
        let (challenges, header) = DigestChallenge.challenges(in: response)
        #expect(header == "Proxy-Authorization")
        #expect(challenges.map(\.realm) == ["r"], "a 407's challenge is in Proxy-Authenticate only")
        #expect(challenges.first?.isProxy == true)
    }
}
