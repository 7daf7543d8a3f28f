import PluginAPI

/// The INVITE that `patchbay route` and the route tests send through the processor: numbers as the source peer
/// would write them, and an offer with the codecs real peers argue about, so codec filtering shows too.
public enum SyntheticCall {
    public static let offer = """
        v=0\r
        o=- 4711 1 IN IP4 192.0.2.1\r
        s=-\r
        c=IN IP4 192.0.2.1\r
        t=0 0\r
        m=audio 20000 RTP/AVP 18 0 8 9 101\r
        a=rtpmap:18 G729/8000\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:9 G722/8000\r
        a=rtpmap:101 telephone-event/8000\r
        a=fmtp:101 0-15\r
        a=ptime:20\r
        a=sendrecv\r

        """

    public static func invite(from peer: PatchbayConfiguration.Peer, to called: String, caller: String?, callID: String)
        -> SIPMessage
    {
        let host = peer.addresses.first?.description ?? "192.0.2.1"
        let callerUser = caller ?? "anonymous"
        let callerHost = caller == nil ? "anonymous.invalid" : host
        return SIPMessage(
            startLine: .request(method: "INVITE", uri: "sip:\(called)@patchbay.invalid", version: "SIP/2.0"),
            headers: [
                SIPHeader("Via", "SIP/2.0/UDP \(host);branch=z9hG4bK-\(callID)"),
                SIPHeader("Max-Forwards", "70"),
                SIPHeader("From", "<sip:\(callerUser)@\(callerHost)>;tag=\(callID)"),
                SIPHeader("To", "<sip:\(called)@patchbay.invalid>"),
                SIPHeader("Call-ID", callID),
                SIPHeader("CSeq", "1 INVITE"),
                SIPHeader("Contact", "<sip:\(callerUser)@\(host)>"),
                SIPHeader("Content-Type", "application/sdp"),
            ],
            body: Array(offer.utf8))
    }
}
