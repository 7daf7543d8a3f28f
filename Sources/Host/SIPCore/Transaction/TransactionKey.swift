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
    static let magicCookieBytes = Array(magicCookie.utf8)

    /// Compared as octets (`OctetKey`): a branch, tag or Call-ID is the same only when every byte is.
    package enum Identity: Hashable, Sendable {
        case branch(branch: OctetKey, sentBy: OctetKey)
        case rfc2543(
            requestURI: OctetKey, toTag: OctetKey?, fromTag: OctetKey?, callID: OctetKey, cseq: UInt32, topVia: OctetKey
        )
    }

    let identity: Identity
    /// The method of the transaction: INVITE for an ACK, otherwise the request's method (or the CSeq method of a
    /// response).
    public let method: String

    // Hashing the branch alone (or the Call-ID and CSeq of an RFC 2543 key) is enough to spread keys: both are
    // unique per transaction, and the synthesised equality still compares everything. The synthesised hash fed
    // every string of the key to the hasher on each of the several lookups a message makes.
    public func hash(into hasher: inout Hasher) {
        switch identity {
        case .branch(let branch, _): hasher.combine(branch)
        case .rfc2543(_, _, _, let callID, let cseq, _):
            hasher.combine(callID)
            hasher.combine(cseq)
        }
    }

    package init(identity: Identity, method: String) {
        self.identity = identity
        self.method = method
    }

    public init?(request: SIPMessage) {
        guard case .request(let requestMethod, let uri, _) = request.startLine, let topVia = request.topVia
        else { return nil }
        let method = requestMethod == "ACK" ? "INVITE" : requestMethod
        if let parts = ViaValue.cookieBranch(topVia) {
            self.init(identity: .branch(branch: OctetKey(parts.branch), sentBy: OctetKey(parts.sentBy)), method: method)
            return
        }
        guard let via = ViaValue(topVia), let callID = request.callID, let cseq = request.cseq else { return nil }
        self.init(
            identity: .rfc2543(
                requestURI: OctetKey(uri), toTag: request.toTag.map(OctetKey.init),
                fromTag: request.fromTag.map(OctetKey.init), callID: OctetKey(callID), cseq: cseq.number,
                topVia: OctetKey(via.normalized)),
            method: method)
    }

    public init?(response: SIPMessage) {
        guard !response.isRequest, let topVia = response.topVia, let parts = ViaValue.cookieBranch(topVia),
            let cseq = response.cseq
        else { return nil }
        self.init(
            identity: .branch(branch: OctetKey(parts.branch), sentBy: OctetKey(parts.sentBy)), method: cseq.method)
    }

    /// True for an RFC 3261 key (a cookie branch), false for the RFC 2543 fallback.
    public var isRFC3261: Bool {
        if case .branch = identity { return true }
        return false
    }

    /// The top Via branch, when the key is an RFC 3261 one.
    public var branch: String? {
        if case .branch(let branch, _) = identity { return branch.text }
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
                requestURI: uri, toTag: toTag.map(OctetKey.init), fromTag: fromTag, callID: callID, cseq: cseq,
                topVia: topVia),
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
            "\(method) rfc2543 \(uri) to-tag=\(toTag?.text ?? "-") from-tag=\(fromTag?.text ?? "-") \(callID) \(cseq) \(topVia)"
        }
    }
}
