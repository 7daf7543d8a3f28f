import PluginAPI
import SIPCore

/// How a B2BUA composes a message for one leg from a message received on the other: the transaction and dialog
/// headers (Via, From, To, Call-ID, CSeq, Contact, routes) belong to each leg and are never copied across; what
/// carries meaning for the peers (identity, redirection, reason, body) is relayed through both adapters.
package enum Relay {
    /// Headers that identify a transaction, a dialog or a hop, or negotiate extensions Patchbay handles per leg.
    static let legHeaders: Set<String> = [
        "via", "from", "to", "call-id", "cseq", "contact", "record-route", "route", "max-forwards",
        "content-length", "content-type", "supported", "require", "proxy-require", "unsupported", "allow",
        "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "rseq", "rack",
        "session-expires", "min-se", "server", "user-agent", "organization",
    ]

    /// Patchbay's own methods, the same on every leg.
    package static let allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK"

    /// The relayable content of `message` (headers that are not leg headers, and the body with its type).
    package static func content(of message: SIPMessage) -> SIPMessage {
        var m = message
        m.headers.removeAll { isLegHeader($0) && !$0.hasName("content-type") }
        return m
    }

    /// `legHeaders.contains(header.canonicalName)` without building the lower-cased name, which for a long name
    /// (`P-Asserted-Identity`) is a heap String per header of every relayed message.
    static func isLegHeader(_ header: SIPHeader) -> Bool { legHeaderNames.contains(header.name) }

    private static let legHeaderNames = SIPHeader.NameSet(legHeaders)

    /// Identities Patchbay now asserts to the next hop carry its host, not the caller's network address. Towards an
    /// external peer every redirection and referral URI does too (Diversion, History-Info, Referred-By), so no
    /// internal host (`<sip:4799@10.1.1.10>`) leaves the site in any header Patchbay forwards.
    package static func hideTopology(_ m: inout SIPMessage, localHost: String, external: Bool) {
        // One pass says whether there is anything to rewrite: most messages (BYE, ACK, most responses) carry none.
        let set = external ? identityOrRedirection : identityOnly
        guard m.headers.contains(where: { set.contains($0.name) }) else { return }
        let names = external ? identityHeaders + redirectionHeaders : identityHeaders
        for name in names where m.hasHeader(name) {
            var entries = m.nameAddresses(name)
            for i in entries.indices where !entries[i].uri.isTel {
                entries[i].uri.host = localHost
                entries[i].uri.port = nil
            }
            m.setNameAddresses(name, entries)
        }
    }

    static let identityHeaders = ["P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID"]
    static let redirectionHeaders = ["Diversion", "History-Info", "Referred-By"]
    private static let identityOnly = SIPHeader.NameSet(identityHeaders.map { $0.lowercased() })
    private static let identityOrRedirection = SIPHeader.NameSet(
        (identityHeaders + redirectionHeaders).map { $0.lowercased() })

    /// `content` translated from the peer `from` into the house format and on to the peer `to`, with the receiving
    /// peer's header policy applied to the house message before its adapter writes what it adds.
    package static func translate(
        _ content: SIPMessage, from: any PeerAdapter, to: any PeerAdapter, policy: HeaderPolicy? = nil
    ) -> SIPMessage {
        var m = content
        var parsed: ParsedSDP?
        AdapterPipeline.fromPeer(&m, adapter: from, parsed: &parsed)
        policy?.apply(to: &m)
        AdapterPipeline.toPeer(&m, adapter: to, parsed: parsed)
        return m
    }

    /// What `message` from the peer `from` carries to the peer `to`: its relayable content through both adapters,
    /// the receiving peer's header policy, and for an external peer no internal host in any identity or
    /// redirection URI. Every message relayed between a call's legs goes through here, and `patchbay process`
    /// on a response too.
    package static func forward(_ message: SIPMessage, from: String, to: String, site: Site, localHost: String)
        -> SIPMessage
    {
        guard let fromAdapter = site.adapters[from], let toAdapter = site.adapters[to] else {
            return content(of: message)
        }
        let egress = site.egress[to]
        var out = translate(content(of: message), from: fromAdapter, to: toAdapter, policy: egress?.policy)
        // Towards an internal peer the relayed content keeps its hosts, as before the policy existed; the initial
        // INVITE's identities are rewritten for every peer (`OutboundInvite`).
        if egress?.external == true { hideTopology(&out, localHost: localHost, external: true) }
        return out
    }

    /// A response to `request` (which arrived on the A leg) with our To tag, carrying `content`'s relayable
    /// headers and body. RFC 3261 section 8.2.6.2: Via, From, Call-ID and CSeq are copied from the request.
    package static func response(
        _ status: Int, _ reason: String, to request: SIPMessage, toTag: String?, contact: String?,
        content: SIPMessage? = nil
    ) -> SIPMessage {
        var headers: [SIPHeader] = request.headers.filter { $0.hasName("via") }
        for name in ["From", "To", "Call-ID", "CSeq"] {
            guard var value = request.header(name) else { continue }
            // The tag is appended to the To as the caller wrote it: parsing it to a NameAddress and writing it back
            // only to add a parameter was most of building each response.
            if name == "To", let toTag, request.toTag == nil {
                value += ";tag=" + toTag
            }
            headers.append(SIPHeader(name, value))
        }
        if let contact, status < 300 || (300..<400).contains(status) { headers.append(SIPHeader("Contact", contact)) }
        if status < 300, request.method == "INVITE" { headers.append(SIPHeader("Allow", allow)) }
        var body: [UInt8] = []
        if let content {
            headers += content.headers
            body = content.body
        }
        return SIPMessage(
            startLine: .response(version: "SIP/2.0", status: status, reason: reason), headers: headers, body: body)
    }

    /// A response's own reason phrase, or the standard one when it has none.
    package static func reasonPhrase(of r: SIPMessage) -> String {
        if case .response(_, _, let reason) = r.startLine, !reason.isEmpty { return reason }
        return reasonPhrase(r.statusCode ?? 500)
    }

    package static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Trying"
        case 180: return "Ringing"
        case 183: return "Session Progress"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 480: return "Temporarily Unavailable"
        case 481: return "Call/Transaction Does Not Exist"
        case 416: return "Unsupported URI Scheme"
        case 420: return "Bad Extension"
        case 483: return "Too Many Hops"
        case 486: return "Busy Here"
        case 487: return "Request Terminated"
        case 488: return "Not Acceptable Here"
        case 500: return "Server Internal Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "Version Not Supported"
        case 513: return "Message Too Large"
        case 603: return "Decline"
        default: return "Status \(status)"
        }
    }
}
