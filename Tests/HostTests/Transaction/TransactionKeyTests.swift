import Host
import PluginAPI
import Testing

/// RFC 3261 sections 17.1.3 and 17.2.3.
@Suite struct TransactionKeyTests {
    typealias F = TransactionFixtures

    @Test func responseMatchesTheRequestThatCreatedTheClientTransaction() throws {
        let invite = F.invite()
        let key = try #require(TransactionKey(request: invite))
        #expect(key.isRFC3261)
        #expect(key.branch == "z9hG4bK-uac-1")
        #expect(key.method == "INVITE")
        #expect(TransactionKey(response: F.response(180, "Ringing", to: invite)) == key)
        #expect(TransactionKey(response: F.response(486, "Busy Here", to: invite)) == key)
    }

    @Test func ackForAFailureMatchesTheInviteAndCancelHasItsOwnTransaction() throws {
        let invite = F.invite()
        let key = try #require(TransactionKey(request: invite))
        let ack = F.ack(for: invite, response: F.response(486, "Busy Here", to: invite))
        #expect(TransactionKey(request: ack) == key)
        let cancel = F.request(method: "CANCEL")
        let cancelKey = try #require(TransactionKey(request: cancel))
        #expect(cancelKey != key)
        #expect(cancelKey.replacingMethod(with: "INVITE") == key)
        #expect(TransactionKey(response: F.response(200, "OK", to: cancel)) == cancelKey)
    }

    @Test func branchSentByAndMethodEachDistinguish() throws {
        let key = try #require(TransactionKey(request: F.invite()))
        #expect(TransactionKey(request: F.invite(branch: "z9hG4bK-uac-2")) != key)
        #expect(TransactionKey(request: F.request(method: "OPTIONS")) != key)
        var otherHost = F.invite()
        otherHost.setValues("Via", ["SIP/2.0/UDP other.example:5060;branch=z9hG4bK-uac-1"])
        #expect(TransactionKey(request: otherHost) != key)
        var sameButSpelledDifferently = F.invite()
        sameButSpelledDifferently.setValues(
            "v", ["SIP / 2.0 / udp  UAC.example : 5060 ; received=192.0.2.1 ; branch = z9hG4bK-uac-1"])
        #expect(TransactionKey(request: sameButSpelledDifferently) == key, "sent-by and branch compare as values")
    }

    @Test func theCookieIsCaseSensitive() throws {
        let key = try #require(TransactionKey(request: F.invite(branch: "Z9HG4BK-uac-1")))
        #expect(!key.isRFC3261)
        #expect(key.branch == nil)
    }

    @Test func rfc2543FallbackMatchesRetransmissionsAndTheAckThroughTheResponseToTag() throws {
        let invite = F.invite(branch: "legacy-1")
        let key = try #require(TransactionKey(request: invite))
        #expect(!key.isRFC3261)
        #expect(TransactionKey(request: F.invite(branch: "legacy-1")) == key)
        #expect(TransactionKey(request: F.invite(branch: "legacy-1", cseq: 2)) != key)
        #expect(TransactionKey(request: F.invite(branch: "legacy-1", callID: "other")) != key)
        #expect(TransactionKey(request: F.invite(branch: "legacy-2")) != key, "the top Via takes part")

        let busy = F.response(486, "Busy Here", to: invite, toTag: "busy-tag")
        let ackKey = try #require(TransactionKey(request: F.ack(for: invite, response: busy)))
        #expect(ackKey != key, "the ACK carries a To tag the INVITE did not")
        #expect(ackKey == key.replacingToTag(with: "busy-tag"))
        #expect(ackKey != key.replacingToTag(with: "another-tag"))
        #expect(TransactionKey(response: busy) == nil, "responses need an RFC 3261 branch")
    }

    @Test func messagesWithoutAVia() {
        var invite = F.invite()
        invite.removeHeader("Via")
        #expect(TransactionKey(request: invite) == nil)
        #expect(TransactionKey(response: F.response(200, "OK", to: invite)) == nil)
        #expect(TransactionKey(response: F.invite()) == nil, "a request is not a response")
    }

    @Test func newBranchesCarryTheCookieAndDiffer() {
        let branches = Set((0..<100).map { _ in TransactionKey.makeBranch() })
        #expect(branches.count == 100)
        #expect(branches.allSatisfy { $0.hasPrefix("z9hG4bK") && $0.count > 7 + 8 })
    }
}
