import PluginAPI

/// What makes two messages belong to the same transaction (RFC 3261 sections 17.1.3 and 17.2.3).
///
/// With an RFC 3261 branch (one starting with the magic cookie `z9hG4bK`) the key is the branch, the sent-by of the
/// top Via and the method, where an ACK counts as INVITE (it belongs to the INVITE server transaction it
/// acknowledges) and a CANCEL keeps its own method (it is a transaction of its own with the INVITE's branch).
///
/// Without the cookie the request comes from an RFC 2543 element and the key falls back to the Request-URI, To tag,
/// From tag, Call-ID, CSeq number, top Via and method. An ACK is the awkward case: it carries the To tag of the
/// final response the server transaction sent, while the INVITE that created the transaction had none. This type
/// keys the ACK with the tag it carries; `TransactionLayer` registers, when an INVITE server transaction keyed this
/// way sends a final response of 300-699, a second key (the INVITE's key with that response's To tag, see
/// `replacingToTag(with:)`) under which the ACK finds the transaction.
///
/// Responses only ever match client transactions, which this host creates with RFC 3261 branches, so
/// `init?(response:)` has no fallback: it fails when the top Via has no cookie branch.
public struct TransactionKey: Hashable, Sendable, CustomStringConvertible {
    public static let magicCookie = "z9hG4bK"

    enum Identity: Hashable, Sendable {
        case branch(branch: String, sentBy: String)
        case rfc2543(requestURI: String, toTag: String?, fromTag: String?, callID: String, cseq: UInt32, topVia: String)
    }

    let identity: Identity
    /// The method of the transaction: INVITE for an ACK, otherwise the request's method (or the CSeq method of a
    /// response).
    public let method: String

    init(identity: Identity, method: String) {
        self.identity = identity
        self.method = method
    }

    public init?(request: SIPMessage) {
        guard case .request(let requestMethod, let uri, _) = request.startLine,
            let topVia = request.values("Via").first, let via = ViaValue(topVia)
        else { return nil }
        let method = requestMethod == "ACK" ? "INVITE" : requestMethod
        if let branch = via.branch, branch.hasPrefix(Self.magicCookie) {
            self.init(identity: .branch(branch: branch, sentBy: via.sentBy), method: method)
            return
        }
        guard let callID = request.callID, let cseq = request.cseq else { return nil }
        self.init(
            identity: .rfc2543(
                requestURI: uri, toTag: request.to?.tag, fromTag: request.from?.tag, callID: callID, cseq: cseq.number,
                topVia: via.normalized),
            method: method)
    }

    public init?(response: SIPMessage) {
        guard !response.isRequest, let topVia = response.values("Via").first, let via = ViaValue(topVia),
            let branch = via.branch, branch.hasPrefix(Self.magicCookie), let cseq = response.cseq
        else { return nil }
        self.init(identity: .branch(branch: branch, sentBy: via.sentBy), method: cseq.method)
    }

    /// True for an RFC 3261 key (a cookie branch), false for the RFC 2543 fallback.
    public var isRFC3261: Bool {
        if case .branch = identity { return true }
        return false
    }

    /// The top Via branch, when the key is an RFC 3261 one.
    public var branch: String? {
        if case .branch(let branch, _) = identity { return branch }
        return nil
    }

    /// The same transaction identity for another method: `TransactionKey(request: cancel)?.replacingMethod(with:
    /// "INVITE")` is the key of the INVITE server transaction a CANCEL targets (RFC 3261 section 9.2).
    public func replacingMethod(with method: String) -> TransactionKey {
        TransactionKey(identity: identity, method: method)
    }

    /// For an RFC 2543 key, the key an ACK for a response with this To tag carries; RFC 3261 keys do not hold the
    /// To tag and come back unchanged.
    public func replacingToTag(with toTag: String?) -> TransactionKey {
        guard case .rfc2543(let uri, _, let fromTag, let callID, let cseq, let topVia) = identity else { return self }
        return TransactionKey(
            identity: .rfc2543(
                requestURI: uri, toTag: toTag, fromTag: fromTag, callID: callID, cseq: cseq, topVia: topVia),
            method: method)
    }

    /// A fresh branch for a request this host originates: the cookie and enough randomness to be unique in space and
    /// time (RFC 3261 section 8.1.1.7).
    public static func makeBranch() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        let suffix = String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
        return magicCookie + suffix
    }

    public var description: String {
        switch identity {
        case .branch(let branch, let sentBy):
            "\(method) \(branch) \(sentBy)"
        case .rfc2543(let uri, let toTag, let fromTag, let callID, let cseq, let topVia):
            "\(method) rfc2543 \(uri) to-tag=\(toTag ?? "-") from-tag=\(fromTag ?? "-") \(callID) \(cseq) \(topVia)"
        }
    }
}

/// The parts of one Via value that transaction matching reads. Parsing is deliberately tolerant: the grammar was
/// checked when the message came in, and matching must not fail on spacing the grammar allows
/// (`SIP / 2.0 / UDP host : 5060 ; branch = x`).
struct ViaValue: Sendable {
    var transport: String
    /// host[:port], lower-cased and without whitespace, so the same sent-by written twice compares equal.
    var sentBy: String
    var parameters: [(name: String, value: String?)]

    init?(_ text: String) {
        let paramParts = text.split(separator: ";", omittingEmptySubsequences: false)
        let head = paramParts[0]
        let protocolParts = head.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard protocolParts.count == 3 else { return nil }
        // The third part is "transport LWS sent-by": the first token is the transport, the rest the sent-by.
        let tail = protocolParts[2].drop { $0 == " " || $0 == "\t" }
        guard let space = tail.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        transport = tail[..<space].uppercased()
        sentBy = String(tail[space...].filter { $0 != " " && $0 != "\t" }).lowercased()
        guard !transport.isEmpty, !sentBy.isEmpty else { return nil }
        parameters = paramParts.dropFirst().compactMap { part in
            let trimmed = part.trimmedSIPSpace()
            guard !trimmed.isEmpty else { return nil }
            guard let eq = trimmed.firstIndex(of: "=") else { return (trimmed.lowercased(), nil) }
            let name = trimmed[..<eq].trimmedSIPSpace().lowercased()
            let value = trimmed[trimmed.index(after: eq)...].trimmedSIPSpace()
            return (name, value)
        }
    }

    var branch: String? { parameters.first { $0.name == "branch" }?.value ?? nil }

    /// The whole value in one spelling, for the RFC 2543 comparison of the top Via: parameter order is kept because
    /// an RFC 2543 element retransmits the same bytes.
    var normalized: String {
        var text = "SIP/2.0/\(transport) \(sentBy)"
        for p in parameters { text += ";" + p.name + (p.value.map { "=" + $0 } ?? "") }
        return text
    }
}

extension StringProtocol {
    fileprivate func trimmedSIPSpace() -> String {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return String(s)
    }
}
