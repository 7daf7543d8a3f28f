import NIOCore
import PluginAPI
import SIPCore

/// One side of a call as Patchbay sees it: a dialog with its own Call-ID, tags, CSeq and remote target. The A leg
/// is the dialog with the caller (Patchbay is its UAS), the B leg the dialog with the chosen target (Patchbay is
/// its UAC). Nothing of one leg's identifiers appears on the other.
package struct CallLeg {
    package var peer: String
    package var destination: SIPDestination
    package var callID: String
    package var localTag: String
    package var remoteTag: String?
    /// Our URI and theirs as written in From/To of requests we send on this leg.
    package var localURI: NameAddress
    package var remoteURI: NameAddress
    /// Where in-dialog requests go (the peer's Contact).
    package var remoteTarget: SIPURI
    var routeSet: [String] = []
    package var localCSeq: UInt32
    var remoteCSeq: UInt32 = 0

    /// The ACK for a 2xx to the INVITE sent with CSeq `cseq` (RFC 3261 section 13.2.2.4): same CSeq number, a new
    /// branch, no Contact. It belongs to no transaction and leaves the dialog's CSeq alone.
    package func makeACK(cseq: UInt32, via: String) -> SIPMessage {
        var copy = self
        copy.localCSeq = cseq - 1
        var ack = copy.makeRequest("ACK", via: via, contact: "")
        ack.removeHeader("Contact")
        return ack
    }

    /// A request inside this dialog (BYE, INFO, UPDATE, re-INVITE), RFC 3261 section 12.2.1.1.
    package mutating func makeRequest(_ method: String, via: String, contact: String, maxForwards: Int = 70)
        -> SIPMessage
    {
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
    package static func request(
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

    package init(
        peer: String, destination: SIPDestination, callID: String, localTag: String, remoteTag: String? = nil,
        localURI: NameAddress, remoteURI: NameAddress, remoteTarget: SIPURI, routeSet: [String] = [], localCSeq: UInt32,
        remoteCSeq: UInt32 = 0
    ) {
        self.peer = peer
        self.destination = destination
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
        self.localURI = localURI
        self.remoteURI = remoteURI
        self.remoteTarget = remoteTarget
        self.routeSet = routeSet
        self.localCSeq = localCSeq
        self.remoteCSeq = remoteCSeq
    }
}
