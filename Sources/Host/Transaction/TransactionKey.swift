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
    enum Identity: Hashable, Sendable {
        case branch(branch: OctetKey, sentBy: OctetKey)
        case rfc2543(
            requestURI: OctetKey, toTag: OctetKey?, fromTag: OctetKey?, callID: OctetKey, cseq: UInt32, topVia: OctetKey)
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

    init(identity: Identity, method: String) {
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
        self.init(identity: .branch(branch: OctetKey(parts.branch), sentBy: OctetKey(parts.sentBy)), method: cseq.method)
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

/// The parts of one Via value that transaction matching reads. Parsing is deliberately tolerant: the grammar was
/// checked when the message came in, and matching must not fail on spacing the grammar allows
/// (`SIP / 2.0 / UDP host : 5060 ; branch = x`).
struct ViaValue: Sendable {
    var transport: String
    /// host[:port], lower-cased and without whitespace, so the same sent-by written twice compares equal.
    var sentBy: String
    var parameters: [(name: String, value: String?)]

    init?(_ text: Substring) {
        let parsed: (transport: String, sentBy: String, parameters: [(name: String, value: String?)])? =
            ByteScan.withBytes(text) { b in
                guard let head = Self.head(b) else { return nil }
                var parameters: [(name: String, value: String?)] = []
                Self.forEachParameter(b, from: head.parameters) { name, value in
                    parameters.append((ByteScan.string(b, name).lowercased(), value.map { ByteScan.string(b, $0) }))
                    return true
                }
                return (ByteScan.string(b, head.transport).uppercased(), head.sentBy, parameters)
            }
        guard let parsed else { return nil }
        (transport, sentBy, parameters) = parsed
    }

    /// The branch and sent-by of an RFC 3261 Via (its first `branch` parameter starts with the magic cookie), or
    /// nil for any other: what `ViaValue(text)` would give as `branch` and `sentBy`, without the parameter list and
    /// transport it also builds. Every message received and every response sent is keyed this way, so it runs
    /// several times per message.
    static func cookieBranch(_ text: Substring) -> (branch: String, sentBy: String)? {
        ByteScan.withBytes(text) { b in
            guard let head = head(b) else { return nil }
            var branch: Range<Int>??
            forEachParameter(b, from: head.parameters) { name, value in
                guard ByteScan.equalsIgnoringCase(b, name, "branch") else { return true }
                branch = .some(value)
                return false
            }
            let cookie = TransactionKey.magicCookieBytes
            guard case .some(.some(let value)) = branch, value.count >= cookie.count,
                cookie.indices.allSatisfy({ b[value.lowerBound + $0] == cookie[$0] })
            else { return nil }
            return (ByteScan.string(b, value), head.sentBy)
        }
    }

    /// What the received/rport stamp of RFC 3261 section 18.2.1 and RFC 3581 reads: the sent-by, whether a
    /// `received` parameter is there already, and where the name of an `rport` without a value ends (an index
    /// into `text`'s base string). Nil where `ViaValue` would be nil.
    static func stampFacts(
        _ text: Substring
    ) -> (sentBy: String, hasReceived: Bool, bareRportEnd: String.Index?)? {
        let facts: (sentBy: String, hasReceived: Bool, bareRportEnd: Int?)? = ByteScan.withBytes(text) { b in
            guard let head = head(b) else { return nil }
            var hasReceived = false
            var bareRportEnd: Int?
            forEachParameter(b, from: head.parameters) { name, value in
                if ByteScan.equalsIgnoringCase(b, name, "received") { hasReceived = true }
                if value == nil, bareRportEnd == nil, ByteScan.equalsIgnoringCase(b, name, "rport") {
                    bareRportEnd = name.upperBound
                }
                return true
            }
            return (head.sentBy, hasReceived, bareRportEnd)
        }
        guard let facts else { return nil }
        let u = text.utf8
        return (facts.sentBy, facts.hasReceived, facts.bareRportEnd.map { u.index(u.startIndex, offsetBy: $0) })
    }

    // The scans below are `ByteScan`'s: on the value's bytes with integer offsets.

    /// Returns the transport's bytes, the sent-by (lower-cased, without whitespace) and where the parameters start
    /// (their first `;`).
    private static func head(_ b: UnsafeBufferPointer<UInt8>) -> (transport: Range<Int>, sentBy: String, parameters: Int)? {
        let semicolon = ByteScan.first(0x3B, in: b, 0, b.count) ?? b.count
        // sent-protocol "SIP / 2.0 / transport": the transport follows the second slash.
        guard let slash1 = ByteScan.first(0x2F, in: b, 0, semicolon), let slash2 = ByteScan.first(0x2F, in: b, slash1 + 1, semicolon)
        else { return nil }
        var i = slash2 + 1
        while i < semicolon, ByteScan.isSpace(b[i]) { i += 1 }
        let transportStart = i
        while i < semicolon, !ByteScan.isSpace(b[i]) { i += 1 }
        guard i < semicolon, transportStart < i else { return nil }
        // Written straight into the String (no intermediate byte array): this runs for every message received.
        let rest = UnsafeBufferPointer(rebasing: b[i..<semicolon])
        let sentBy = String(unsafeUninitializedCapacity: rest.count) { buffer in
            var n = 0
            for c in rest where !ByteScan.isSpace(c) {
                buffer[n] = asciiLower(c)
                n += 1
            }
            return n
        }
        guard !sentBy.isEmpty else { return nil }
        return (transportStart..<i, sentBy, semicolon)
    }

    /// Calls `body` with each parameter's name and value (nil for a bare `;name`), trimmed of spaces and tabs,
    /// from the `;` at `start` on, until `body` returns false. Empty parameters are skipped.
    private static func forEachParameter(
        _ b: UnsafeBufferPointer<UInt8>, from start: Int, _ body: (Range<Int>, Range<Int>?) -> Bool
    ) {
        var rest = start
        while rest < b.count {
            let partStart = rest + 1
            let end = ByteScan.first(0x3B, in: b, partStart, b.count) ?? b.count
            rest = end
            let part = ByteScan.trimmed(b, partStart, end)
            guard !part.isEmpty else { continue }
            guard let eq = ByteScan.first(0x3D, in: b, part.lowerBound, part.upperBound) else {
                if !body(part, nil) { return }
                continue
            }
            if !body(ByteScan.trimmed(b, part.lowerBound, eq), ByteScan.trimmed(b, eq + 1, part.upperBound)) { return }
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
