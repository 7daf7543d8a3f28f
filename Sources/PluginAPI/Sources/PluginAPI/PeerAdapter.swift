/// Where a number sits in a message. Adapters may format each role differently (a PSTN gateway often wants the
/// called number national and the caller international, for example).
public enum NumberRole: String, Sendable, CaseIterable {
    /// Request-URI and To of an initial request: who is being called.
    case called
    /// From, P-Asserted-Identity, P-Preferred-Identity, Remote-Party-ID, Referred-By: who is calling.
    case calling
    /// Diversion and History-Info: who forwarded the call.
    case redirecting
    /// P-Asserted-Identity in a response: who answered.
    case connected
}

/// Translates between one peer's dialect of SIP and the house format. One instance serves one configured peer
/// for as long as the configuration that made it is in force; it is called from several event loops at once, so
/// it must not keep mutable state without its own synchronisation (most adapters keep none).
///
/// The house format, which routing sees and which every hook either produces or starts from:
/// - numbers are E.164 with a leading `+` (`+49301234567`) in the Request-URI user part and in every
///   name-addr header that carries one; numbers that have no E.164 form (`anonymous`, short codes a peer did not
///   qualify) stay as received and are marked `isE164 == false`;
/// - identity is in P-Asserted-Identity (never Remote-Party-ID), redirection in Diversion (RFC 5806 form);
/// - no vendor `X-` headers that only the sending peer understands;
/// - SDP with explicit `fmtp` where the codec's default is ambiguous (G.729 `annexb`), one telephone-event
///   payload type, no vendor attributes.
///
/// The host calls the hooks in this order and nowhere else:
/// - message received from the peer: `headersFromPeer`, then `numberFromPeer` for each number, then `sdpFromPeer`,
///   with the rules every house message keeps (`HouseFormat`: History-Info to Diversion after the headers, G.729's
///   annexb made explicit in the SDP before `sdpFromPeer` sees it) applied by the host whatever the adapter does;
/// - message sent to the peer: `numberToPeer` for each number, then `headersToPeer`, then `sdpToPeer`.
/// The host itself finds the numbers (Request-URI, To, From, P-Asserted-Identity, P-Preferred-Identity,
/// Remote-Party-ID, Diversion, History-Info, Referred-By), so a number hook never parses headers.
///
/// Every hook has a pass-through default: an adapter for a peer that already speaks the house format is empty.
/// Requirement every implementation must meet (and `AdapterFixtures.roundTripProblems` in PluginTestKit checks): a house-format
/// message taken to the peer and back yields the same numbers.
public protocol PeerAdapter: AnyObject, Sendable {
    /// Peer -> house. May add, remove and rewrite any header field (for example turn Remote-Party-ID into
    /// P-Asserted-Identity, drop `X-` headers) and the host part of URIs. Must not change the start line's method,
    /// Call-ID, CSeq, Via or tags (the transaction and dialog layers own them) nor the body.
    func headersFromPeer(_ message: inout SIPMessage)

    /// Peer -> house. Turns a number as the peer wrote it (`4711`, `0301234567`, `9011...`) into the house format.
    /// Default: `+...` is E.164, anything else is kept as received and not E.164.
    func numberFromPeer(_ number: String, role: NumberRole) -> PhoneNumber

    /// Peer -> house. May remove, reorder or re-describe codecs and attributes of an offer or answer received from
    /// the peer. Must not change addresses or ports (media does not flow through Patchbay).
    func sdpFromPeer(_ sdp: inout SessionDescription, in message: SIPMessage)

    /// House -> peer. Writes a house-format number the way the peer expects it. Default: the E.164 form.
    func numberToPeer(_ number: PhoneNumber, role: NumberRole) -> String

    /// House -> peer. Called after the numbers are translated, so an identity header rewritten here (for example
    /// P-Asserted-Identity into Remote-Party-ID) already carries the peer's number format. Same limits as
    /// `headersFromPeer`.
    func headersToPeer(_ message: inout SIPMessage)

    /// House -> peer. May filter, reorder and re-describe codecs for what the peer accepts (for example keep only
    /// PCMU/PCMA, set ptime, renumber telephone-event). Must not change addresses or ports.
    func sdpToPeer(_ sdp: inout SessionDescription, in message: SIPMessage)
}

extension PeerAdapter {
    public func headersFromPeer(_ message: inout SIPMessage) {}
    public func numberFromPeer(_ number: String, role: NumberRole) -> PhoneNumber { PhoneNumber(asReceived: number) }
    public func sdpFromPeer(_ sdp: inout SessionDescription, in message: SIPMessage) {}
    public func numberToPeer(_ number: PhoneNumber, role: NumberRole) -> String { number.digits }
    public func headersToPeer(_ message: inout SIPMessage) {}
    public func sdpToPeer(_ sdp: inout SessionDescription, in message: SIPMessage) {}
}
