/// The order in which the host applies an adapter's hooks (documented on `PeerAdapter`). It lives here, not in the
/// host, so that a plugin's own tests (through PluginTestKit) run exactly what the host runs.
public enum AdapterPipeline {
    /// Peer -> house: headers, numbers, SDP, with the house format's own rules (`HouseFormat`).
    @discardableResult
    public static func fromPeer(_ m: inout SIPMessage, adapter: any PeerAdapter) -> [NumberTranslation.Change] {
        var parsed: ParsedSDP?
        return fromPeer(&m, adapter: adapter, parsed: &parsed)
    }

    /// `fromPeer(_:adapter:)`, also returning in `parsed` the house SDP when the adapter left it as it was, for the
    /// `toPeer` calls that follow.
    @discardableResult
    public static func fromPeer(_ m: inout SIPMessage, adapter: any PeerAdapter, parsed: inout ParsedSDP?)
        -> [NumberTranslation.Change]
    {
        parsed = nil
        adapter.headersFromPeer(&m)
        HouseFormat.normaliseHeaders(&m)
        let changes = NumberTranslation.apply(to: &m) { adapter.numberFromPeer($0, role: $1).digits }
        if m.hasSDPBody { HouseFormat.normaliseSDP(body: &m.body) }
        if var sdp = m.sdp {
            let before = sdp
            adapter.sdpFromPeer(&sdp, in: m)
            // A changed description is written to the body and parsed again by the next step: what it reads is
            // then the bytes that are sent, exactly as without the memo.
            if sdp != before { m.sdp = sdp } else { parsed = ParsedSDP(body: m.body, sdp: sdp) }
        }
        return changes
    }

    /// House -> peer: numbers, headers, SDP. `parsed` (from `fromPeer`) saves parsing the body again when it is
    /// still the body it was parsed from.
    @discardableResult
    public static func toPeer(_ m: inout SIPMessage, adapter: any PeerAdapter, parsed: ParsedSDP? = nil)
        -> [NumberTranslation.Change]
    {
        let changes = NumberTranslation.apply(to: &m) {
            adapter.numberToPeer(PhoneNumber(asReceived: $0), role: $1)
        }
        adapter.headersToPeer(&m)
        let described: SessionDescription?
        if let parsed, m.hasSDPBody, parsed.body == m.body { described = parsed.sdp } else { described = m.sdp }
        if var sdp = described {
            let before = sdp
            adapter.sdpToPeer(&sdp, in: m)
            if sdp != before { m.sdp = sdp }
        }
        return changes
    }
}
