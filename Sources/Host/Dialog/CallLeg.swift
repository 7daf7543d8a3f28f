import NIOCore
import PluginAPI

/// One side of a call as Patchbay sees it: a dialog with its own Call-ID, tags, CSeq and remote target. The A leg
/// is the dialog with the caller (Patchbay is its UAS), the B leg the dialog with the chosen target (Patchbay is
/// its UAC). Nothing of one leg's identifiers appears on the other.
struct CallLeg {
    var peer: String
    var destination: SIPDestination
    var callID: String
    var localTag: String
    var remoteTag: String?
    /// Our URI and theirs as written in From/To of requests we send on this leg.
    var localURI: NameAddress
    var remoteURI: NameAddress
    /// Where in-dialog requests go (the peer's Contact).
    var remoteTarget: SIPURI
    var routeSet: [String] = []
    var localCSeq: UInt32
    var remoteCSeq: UInt32 = 0

    /// The ACK for a 2xx to the INVITE sent with CSeq `cseq` (RFC 3261 section 13.2.2.4): same CSeq number, a new
    /// branch, no Contact. It belongs to no transaction and leaves the dialog's CSeq alone.
    func makeACK(cseq: UInt32, via: String) -> SIPMessage {
        var copy = self
        copy.localCSeq = cseq - 1
        var ack = copy.makeRequest("ACK", via: via, contact: "")
        ack.removeHeader("Contact")
        return ack
    }

    /// A request inside this dialog (BYE, INFO, UPDATE, re-INVITE), RFC 3261 section 12.2.1.1.
    mutating func makeRequest(_ method: String, via: String, contact: String, maxForwards: Int = 70) -> SIPMessage {
        localCSeq += 1
        var from = localURI
        from.tag = localTag
        var to = remoteURI
        to.tag = remoteTag
        return Self.request(
            method, uri: remoteTarget, from: from, to: to, callID: callID, cseq: localCSeq, via: via, contact: contact,
            maxForwards: maxForwards, routeSet: routeSet)
    }

    /// A request's dialog headers in the order every request Patchbay sends has them.
    static func request(
        _ method: String, uri: SIPURI, from: NameAddress, to: NameAddress, callID: String, cseq: UInt32, via: String,
        contact: String, maxForwards: Int, routeSet: [String] = []
    ) -> SIPMessage {
        var headers = [SIPHeader("Via", via), SIPHeader("Max-Forwards", String(maxForwards))]
        headers += routeSet.map { SIPHeader("Route", $0) }
        headers += [
            SIPHeader("From", from.description), SIPHeader("To", to.description), SIPHeader("Call-ID", callID),
            SIPHeader("CSeq", "\(cseq) \(method)"), SIPHeader("Contact", contact),
        ]
        return SIPMessage(
            startLine: .request(method: method, uri: uri.description, version: "SIP/2.0"), headers: headers)
    }
}
