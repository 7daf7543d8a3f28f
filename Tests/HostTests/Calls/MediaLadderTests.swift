import Foundation
import NIOCore
import PluginAPI
import Testing

@testable import Calls
@testable import Records
@testable import Routing
@testable import SIPCore

/// Anchored calls as ladders: where the call asks rtpengine, what waits for its answer, and that every session
/// the call made is deleted. rtpengine is the ladder host's (`mediaAnswer` writes 203.0.113.9 for 127.0.0.1).
@Suite struct MediaLadderTests {
    typealias Ladder = CallLadderTests
    typealias Host = CallLadderTests.Host

    /// `gw` anchors (with `gwMedia`), `gw2` passes; `pbx` is the caller.
    static func site(gwMedia: String = "{mode: anchor, interface: external}", pbxMedia: String = "{mode: pass}")
        throws -> Site
    {
        try Ladder.site(
            top: """
                rtpengine:
                  instances: [{name: r1, address: "127.0.0.1:2223"}]
                  interfaces: [internal, external]
                """,
            pbxExtra: "    media: \(pbxMedia)", gwExtra: "    media: \(gwMedia)")
    }

    static func host() -> Host { Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081]) }

    static func text(_ m: SIPMessage?) -> String { m.map { String(decoding: $0.body, as: UTF8.self) } ?? "" }
    static func lastBody(_ host: Host) -> String { text(host.wire.last?.message) }

    @Test func theOfferAndTheAnswerCrossThroughRtpengineAndTheSessionEndsWithTheCall() throws {
        //  caller (A)         Patchbay          rtpengine          gw (B)
        //     | INVITE -------> | offer ----------> |                |
        //     |                 | <------------ SDP |                |
        //     |                 | INVITE(rtpengine's SDP) ---------> |
        //     |                 | <----------------------------- 200 |
        //     |                 | answer ---------> |                |
        //     | <-------- 200 - | <------------ SDP | ACK ---------> |
        //     | BYE ----------> | BYE -----------------------------> |
        //     |                 | <----------------------------- 200 |
        //     |                 | delete ---------> |                |
        let host = Self.host()
        let (call, _) = try Ladder.call(host, site: try Self.site())
        #expect(host.ladder == ["rtpengine offer"], "the INVITE waits for rtpengine")
        let offer = try #require(host.mediaLog.first)
        #expect(offer.fromTag == "caller" && offer.toTag == nil)
        #expect(offer.direction == ["internal", "external"], "the caller's side on the first interface")
        host.mediaAnswer()
        #expect(host.ladder == ["rtpengine offer", "gw INVITE"])
        let invite = try #require(host.wire.last?.message)
        #expect(Self.text(invite).contains("c=IN IP4 203.0.113.9"))
        #expect(!Self.text(invite).contains("127.0.0.1"), "the caller's address does not reach the target")
        #expect(invite.callID == offer.callID, "the session is keyed by the B leg's Call-ID")

        host.answer("gw", "INVITE", 180)
        host.answer("gw", "INVITE", 200, body: Ladder.sdp)
        #expect(host.ladder.suffix(2) == ["A 180", "rtpengine answer"], "the 200 waits for rtpengine")
        let answer = try #require(host.mediaLog.last)
        #expect(answer.kind == .answer && answer.fromTag == "caller" && answer.toTag == "callee")
        host.mediaAnswer()
        #expect(host.ladder.suffix(2) == ["gw ACK", "A 200"])
        #expect(Self.lastBody(host).contains("c=IN IP4 203.0.113.9"))

        call.inDialogRequest(Ladder.fromCaller("ACK", call, cseq: 101), fromA: true)
        call.inDialogRequest(Ladder.fromCaller("BYE", call), fromA: true)
        host.answer("gw", "BYE", 200)
        #expect(call.state == .ended)
        #expect(host.ladder.suffix(1) == ["rtpengine delete"])
        #expect(host.deleted == [offer.callID])
    }

    @Test func eachTargetTriedHasItsOwnSessionAndAnAbandonedOneIsDeleted() throws {
        let host = Self.host()
        let site = try Self.site(gwMedia: "{mode: anchor}", pbxMedia: "{mode: anchor}")
        let (call, _) = try Ladder.call(host, site: site)
        host.mediaAnswer()
        let first = try #require(host.mediaLog.first?.callID)
        host.answer("gw", "INVITE", 503)
        // gw2 passes its media, but the caller's peer anchors: gw2's attempt is anchored too, in a new session.
        #expect(host.ladder.suffix(2) == ["rtpengine delete", "rtpengine offer"])
        #expect(host.deleted == [first])
        let second = try #require(host.mediaLog.last?.callID)
        #expect(second != first)
        host.mediaAnswer()
        host.answer("gw2", "INVITE", 200, body: Ladder.sdp)
        host.mediaAnswer()
        #expect(host.ladder.suffix(2) == ["gw2 ACK", "A 200"])
        call.shutdown()
        host.answer("gw2", "BYE", 200)
        host.answer("pbx", "BYE", 200)
        #expect(call.state == .ended)
        #expect(host.deleted == [first, second], "drain deletes the answered session")
    }

    @Test func aCancelWhileRtpengineIsAskedWaitsItsTurnAndLeavesNoSession() throws {
        let host = Self.host()
        let (call, _) = try Ladder.call(host, site: try Self.site())
        call.inDialogRequest(Ladder.fromCaller("CANCEL", call, cseq: 101), fromA: true)
        #expect(host.ladder == ["rtpengine offer"], "the CANCEL waits behind the offer")
        host.mediaAnswer()
        #expect(host.ladder == ["rtpengine offer", "gw INVITE", "A 200", "A 487", "rtpengine delete"])
        #expect(call.state == .ended)
        // The target rings after all: it is cancelled.
        host.answer("gw", "INVITE", 180)
        #expect(host.ladder.last == "gw CANCEL")
    }

    @Test func anUnreachableRtpengineFailsARequiredTargetOverToTheNext() throws {
        let host = Self.host()
        let (call, _) = try Ladder.call(host, site: try Self.site())
        host.mediaFail()
        // gw needs its media anchored and cannot have it: gw2 (passing media) gets the caller's own SDP.
        #expect(host.ladder == ["rtpengine offer", "gw2 INVITE"])
        #expect(Self.lastBody(host).contains("127.0.0.1"))
        host.answer("gw2", "INVITE", 486)
        #expect(host.ladder.last == "A 486")
        #expect(call.record.attempts.map(\.status) == [503, 486])
        #expect((call.record.attempts.first?.note ?? "").contains("media relay"))
        #expect(host.deleted.isEmpty, "no session was made")
    }

    @Test func anUnreachableRtpengineLeavesAnOptionalPeersCallUnanchored() throws {
        let host = Self.host()
        let (_, _) = try Ladder.call(host, site: try Self.site(gwMedia: "{mode: anchor, relay: optional}"))
        host.mediaFail()
        #expect(host.ladder == ["rtpengine offer", "gw INVITE"])
        #expect(Self.lastBody(host).contains("c=IN IP4 127.0.0.1"), "the caller's SDP as it was")
        host.answer("gw", "INVITE", 200, body: Ladder.sdp)
        #expect(host.ladder.suffix(2) == ["gw ACK", "A 200"], "the answer does not go to rtpengine either")
    }

    @Test func aReInviteToHoldIsOfferedAndAnsweredThroughRtpengine() throws {
        let host = Self.host()
        let (call, _) = try Ladder.call(host, site: try Self.site())
        host.mediaAnswer()
        host.answer("gw", "INVITE", 200, body: Ladder.sdp)
        host.mediaAnswer()
        call.inDialogRequest(Ladder.fromCaller("ACK", call, cseq: 101), fromA: true)
        host.wire = []
        // The callee puts the call on hold.
        call.inDialogRequest(
            Ladder.fromCaller("INVITE", call, body: Ladder.hold, cseq: 2, fromCallee: true), fromA: false)
        #expect(host.ladder == ["rtpengine offer"])
        let offer = try #require(host.mediaLog.last)
        #expect(offer.fromTag == "callee" && offer.toTag == "caller")
        #expect(offer.direction == ["external", "internal"])
        #expect(offer.instance == "r1", "a later request goes to the instance holding the session")
        host.mediaAnswer()
        #expect(host.ladder == ["rtpengine offer", "pbx INVITE"])
        #expect(Self.lastBody(host).contains("a=sendonly"))
        host.answer("pbx", "INVITE", 200, body: Ladder.sdp)
        #expect(host.ladder.last == "rtpengine answer")
        #expect(host.mediaLog.last.map(\.fromTag) == "callee")
        host.mediaAnswer()
        #expect(host.ladder.suffix(2) == ["A 200", "pbx ACK"], "the 200 to gw (respond), the ACK to pbx")
    }

    @Test func aDelayedOfferComesFromTheTargetsAnswerAndTheCallersAckAnswersIt() throws {
        let host = Self.host()
        let (call, _) = try Ladder.call(host, offer: false, site: try Self.site())
        #expect(host.ladder == ["gw INVITE"], "nothing to offer yet")
        host.answer("gw", "INVITE", 200, body: Ladder.sdp)
        #expect(host.ladder.last == "rtpengine offer")
        let offer = try #require(host.mediaLog.last)
        #expect(offer.fromTag == "callee")
        #expect(offer.instance == nil, "the session starts here")
        host.mediaAnswer()
        #expect(host.ladder.last == "A 200")
        call.inDialogRequest(Ladder.fromCaller("ACK", call, body: Ladder.sdp, cseq: 101), fromA: true)
        #expect(host.ladder.last == "rtpengine answer")
        host.mediaAnswer()
        #expect(host.ladder.last == "gw ACK")
        #expect(Self.lastBody(host).contains("203.0.113.9"))
    }

    @Test func aTargetWhoseAnswerCannotBeAnchoredIsHungUpAndTheNextTried() throws {
        let host = Self.host()
        let (_, _) = try Ladder.call(host, site: try Self.site())
        host.mediaAnswer()
        host.answer("gw", "INVITE", 200, body: Ladder.sdp)
        host.mediaFail("rtpengine r1 answered answer without SDP")
        // gw2 passes its media (and so does the caller's peer): it gets the caller's own SDP.
        #expect(host.ladder.suffix(5) == ["rtpengine answer", "gw ACK", "gw BYE", "rtpengine delete", "gw2 INVITE"])
    }

    @Test func dtmfCrossesBetweenAnInfoPeerAndAMediaPeer() throws {
        //  caller (A, dtmf: info)     Patchbay            rtpengine           gw (B, rfc2833)
        //     | INFO Signal=5 -------> | play DTMF 5 -----> | event 5 --------> |
        //     | <--------------- 200 - |                   |                   |
        //     |                        | <------- event 7 - | <-------- event 7 |
        //     | <------ INFO Signal=7 -|                   |                   |
        let host = Self.host()
        let site = try Self.site(pbxMedia: "{mode: anchor, interface: internal, dtmf: info}")
        let (call, _) = try Ladder.call(host, site: site)
        #expect(host.mediaLog.first?.flags.contains("inject-DTMF") == true, "the streams are ready for play DTMF")
        host.mediaAnswer()
        host.answer("gw", "INVITE", 200, body: Ladder.sdp)
        host.mediaAnswer()
        call.inDialogRequest(Ladder.fromCaller("ACK", call, cseq: 101), fromA: true)
        host.wire = []
        var info = Ladder.fromCaller("INFO", call, cseq: 103)
        info.headers.append(SIPHeader("Content-Type", "application/dtmf-relay"))
        info.body = Array("Signal=5\r\nDuration=250\r\n".utf8)
        call.inDialogRequest(info, fromA: true)
        #expect(host.ladder == ["A 200"], "answered here, not relayed to gw")
        #expect(host.played == ["caller:5:250"])

        call.dtmf(event: 11, durationMilliseconds: 160, sourceTag: "callee")
        #expect(host.ladder.last == "pbx INFO")
        let relayed = try #require(host.wire.last?.message)
        #expect(String(decoding: relayed.body, as: UTF8.self) == "Signal=#\r\nDuration=160\r\n")
        #expect(relayed.header("Content-Type") == "application/dtmf-relay")
        // The digit rtpengine played for the caller comes back as the caller's own event: not sent back to it.
        call.dtmf(event: 5, durationMilliseconds: 250, sourceTag: "caller")
        #expect(host.ladder.count == 2)
    }

    @Test func anInfoGoesAsItIsWhenTheOtherPeerTakesInfoToo() throws {
        let host = Self.host()
        let site = try Self.site(
            gwMedia: "{mode: anchor, dtmf: info}", pbxMedia: "{mode: anchor, interface: internal, dtmf: info}")
        let (call, _) = try Ladder.call(host, site: site)
        host.mediaAnswer()
        host.answer("gw", "INVITE", 200, body: Ladder.sdp)
        host.mediaAnswer()
        host.wire = []
        var info = Ladder.fromCaller("INFO", call, cseq: 103)
        info.headers.append(SIPHeader("Content-Type", "application/dtmf-relay"))
        info.body = Array("Signal=5\r\nDuration=250\r\n".utf8)
        call.inDialogRequest(info, fromA: true)
        #expect(host.ladder == ["gw INFO"])
        #expect(host.played.isEmpty)
    }
}
