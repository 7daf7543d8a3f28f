#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The rules of the house format that hold whatever a peer's profile does: `AdapterPipeline.fromPeer` applies them
/// to every message from every peer, so no profile can forget one and every other peer can rely on them.
public enum HouseFormat {
    /// Redirection is carried in Diversion: History-Info (RFC 7044, or RFC 4244's form) becomes Diversion as
    /// RFC 6044 maps it (`SIPMessage.convertHistoryInfoToDiversion`). A profile whose peer reads History-Info
    /// converts back on the way out. Applied after the adapter's `headersFromPeer`.
    public static func normaliseHeaders(_ message: inout SIPMessage) {
        // Looked for first without building anything: this runs for every message from every peer.
        guard message.hasHeader("History-Info") else { return }
        message.convertHistoryInfoToDiversion()
    }

    /// G.729 without an `annexb` fmtp means annexb=yes (RFC 4856 section 2.1.9, RFC 3555 before it); the house
    /// writes the default out, so that a peer's profile that offers only `annexb=no` can see what it removes. An
    /// explicit value is kept. Applied to the SDP body as received, before the adapter's `sdpFromPeer`, so that the
    /// description is parsed once, with the rule already in it. Returns whether the body changed.
    @discardableResult
    public static func normaliseSDP(body: inout [UInt8]) -> Bool {
        guard let edits = body.withUnsafeBufferPointer(G729AnnexB.edits(in:)), !edits.isEmpty else { return false }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 32 * edits.count)
        var from = 0
        for edit in edits {
            out.append(contentsOf: body[from..<edit.at])
            out.append(contentsOf: edit.text)
            from = edit.at
        }
        out.append(contentsOf: body[from...])
        body = out
        return true
    }
}
