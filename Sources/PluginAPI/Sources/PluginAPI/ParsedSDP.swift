/// A house message's body as `AdapterPipeline.fromPeer` parsed it, for the `toPeer` steps that follow (one per
/// target tried, or the other leg's adapter for a response): an offer or answer is parsed once per message instead
/// of once per pipeline, which was a tenth of the 200 OK path's instructions. It stands only for the bytes it was
/// parsed from: `toPeer` compares them with the message's body (the same storage, so usually without reading it)
/// and parses again when an adapter changed the body in between.
public struct ParsedSDP: Sendable {
    let body: [UInt8]
    let sdp: SessionDescription
}
