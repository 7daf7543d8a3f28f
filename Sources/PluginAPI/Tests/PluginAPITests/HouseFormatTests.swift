import PluginAPI
import Testing

/// Rules every house message keeps whatever the sending peer's profile does.
@Suite struct HouseFormatTests {
    final class PassThrough: PeerAdapter {}

    static let g729Offer = """
        v=0\r
        o=- 1 1 IN IP4 192.0.2.1\r
        s=-\r
        c=IN IP4 192.0.2.1\r
        t=0 0\r
        m=audio 4000 RTP/AVP 18 8 101\r
        a=rtpmap:18 G729/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:101 telephone-event/8000\r

        """

    static func invite(_ extra: String = "", body: String = g729Offer) throws -> SIPMessage {
        try SIPMessage(
            parsing: "INVITE sip:+4930123@pbx SIP/2.0\r\nFrom: <sip:2345@pbx>;tag=1\r\nTo: <sip:+4930123@pbx>\r\n"
                + extra + "Content-Type: application/sdp\r\n\r\n" + body)
    }

    /// G.729 without fmtp means annexb=yes (RFC 4856); an adapter that does nothing still yields it explicitly.
    @Test func g729WithoutFmtpIsMadeExplicitForAnyProfile() throws {
        var m = try Self.invite()
        AdapterPipeline.fromPeer(&m, adapter: PassThrough())
        #expect(m.sdp?.media[0].formatParameter(codec: "G729", name: "annexb") == "yes")
        #expect(m.text.contains("a=fmtp:18 annexb=yes"))
    }

    @Test func anExplicitAnnexBIsKept() throws {
        var m = try Self.invite(
            body: Self.g729Offer.replacingOccurrences(of: "a=rtpmap:8", with: "a=fmtp:18 annexb=no\r\na=rtpmap:8"))
        AdapterPipeline.fromPeer(&m, adapter: PassThrough())
        #expect(m.sdp?.media[0].formatParameter(codec: "G729", name: "annexb") == "no")
    }

    @Test func historyInfoFromAnyPeerBecomesDiversion() throws {
        var m = try Self.invite(
            "History-Info: <sip:2345@pbx>;index=1\r\nHistory-Info: <sip:2400@pbx;cause=486>;index=1.1;mp=1\r\n")
        AdapterPipeline.fromPeer(&m, adapter: PassThrough())
        #expect(!m.hasHeader("History-Info"))
        #expect(m.values("Diversion") == ["<sip:2345@pbx>;reason=user-busy;counter=1"])
    }
}
