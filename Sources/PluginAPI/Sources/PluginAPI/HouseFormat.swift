/// The rules of the house format that hold whatever a peer's profile does: `AdapterPipeline.fromPeer` applies them
/// after the adapter's own hooks, so no profile can forget one and every other peer can rely on them.
public enum HouseFormat {
    /// Redirection is carried in Diversion: History-Info (RFC 7044, or RFC 4244's form) becomes Diversion as
    /// RFC 6044 maps it (`SIPMessage.convertHistoryInfoToDiversion`). A profile whose peer reads History-Info
    /// converts back on the way out.
    public static func normaliseHeaders(_ message: inout SIPMessage) {
        // Looked for first without building anything: this runs for every message from every peer.
        guard message.hasHeader("History-Info") else { return }
        message.convertHistoryInfoToDiversion()
    }

    /// G.729 without an `annexb` fmtp means annexb=yes (RFC 4856 section 2.1.9, RFC 3555 before it); the house
    /// writes the default out, so that a peer's profile that offers only `annexb=no` can see what it removes.
    /// An explicit value is kept. Returns whether anything changed.
    @discardableResult
    public static func normaliseSDP(_ sdp: inout SessionDescription) -> Bool {
        var changed = false
        for i in sdp.media.indices
        where !sdp.media[i].formats(matching: "G729").isEmpty
            && sdp.media[i].formatParameter(codec: "G729", name: "annexb") == nil
        {
            sdp.media[i].setFormatParameter(codec: "G729", name: "annexb", value: "yes")
            changed = true
        }
        return changed
    }
}
