/// A History-Info header read as RFC 7044 defines it, with RFC 4244's older form understood: the targets a request
/// had, in order, each with its hierarchical `index`, the tag saying how it was reached (`rc`: the same user's new
/// contact, `mp`: mapped to another user, `np`: no change) and why (`cause` URI parameter of RFC 4458, or a
/// `Reason` header escaped into a URI).
///
/// Where the Reason sits differs between equipment. RFC 4244 and RFC 7044 put it in the URI of the target that was
/// left (the entry whose request got the response that caused the retargeting). Avaya Aura puts it in the URI of
/// the new target (`<sip:4711@pbx?Reason=SIP%3Bcause%3D302>;index=1.1`). The last entry is the target the request
/// is going to now: no response has come from it, so under the RFCs it carries no Reason. When it does, the message
/// follows the new-target convention throughout, and each entry's own Reason says why it was reached.
public struct HistoryInfo: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var target: NameAddress
        /// `1`, `1.1`, `1.2.1`; nil in a form without indices.
        public var index: String?
        /// The entry this one was retargeted from, by index (`rc` or `mp`).
        public var retargetedFrom: String?
        public var tag: Tag?
        /// RFC 4458 `cause` URI parameter: a redirection on the way to this target.
        public var cause: Int?
        /// The SIP cause of a `Reason: SIP;cause=...` escaped into the URI.
        public var reasonCause: Int?

        public enum Tag: String, Sendable, Equatable {
            case rc, mp, np
        }

        init(_ target: NameAddress) {
            self.target = target
            index = target.parameters[parameter: "index"]
            for tag in [Tag.rc, .mp, .np] where target.parameters.has(tag.rawValue) {
                self.tag = tag
                retargetedFrom = target.parameters[parameter: tag.rawValue]
                break
            }
            cause = target.uri.parameters[parameter: "cause"].flatMap { Int($0) }
            reasonCause = Self.sipCause(inURIHeaders: target.uri.headers)
        }

        /// The cause of the first `Reason=SIP;cause=N` among a URI's escaped headers (`?Reason=SIP%3Bcause%3D302`).
        static func sipCause(inURIHeaders headers: String?) -> Int? {
            guard let headers = headers?.removingPercentEncodingForSIP() else { return nil }
            for header in headers.split(separator: "&") {
                let h = header.lowercased().filter { $0 != " " }
                guard h.hasPrefix("reason=sip;"), let range = h.range(of: "cause=") else { continue }
                return Int(h[range.upperBound...].prefix { $0.isASCII && $0.isNumber })
            }
            return nil
        }
    }

    public var entries: [Entry]

    public init(_ targets: [NameAddress]) {
        entries = targets.map(Entry.init)
    }

    /// Whether each entry's own Reason says why it was reached (Avaya), rather than why it was left (the RFCs).
    public var reasonOnNewTarget: Bool { entries.count > 1 && entries.last?.reasonCause != nil }

    /// Position of the entry `i` was retargeted from: the one `rc`/`mp` names, else the one whose index is `i`'s
    /// without its last part, else the entry before it.
    public func parent(of i: Int) -> Int? {
        guard i > 0 else { return nil }
        let entry = entries[i]
        var parentIndex: Substring?
        if let named = entry.retargetedFrom {
            parentIndex = Substring(named)
        } else if let index = entry.index, let dot = index.lastIndex(of: ".") {
            parentIndex = index[..<dot]
        }
        if let parentIndex, let k = entries[..<i].lastIndex(where: { $0.index.map { $0[...] } == parentIndex }) {
            return k
        }
        return i - 1
    }

    /// Why the request was retargeted to entry `i`, as a SIP response code; nil when nothing says it was redirected.
    public func cause(of i: Int) -> Int? {
        guard let p = parent(of: i) else { return nil }
        if let cause = entries[i].cause { return cause }
        return reasonOnNewTarget ? entries[i].reasonCause : entries[p].reasonCause
    }

    /// Whether reaching entry `i` was a diversion: a new user (`mp`), or a redirection cause without `rc`/`np`.
    public func isDiversion(_ i: Int) -> Bool {
        guard i > 0 else { return false }
        switch entries[i].tag {
        case .mp: return true
        case .rc, .np: return entries[i].cause != nil
        case nil: return cause(of: i) != nil
        }
    }

    /// Diversion entries (RFC 5806), most recent first: the party each diversion left, its reason, `counter=1`.
    public var diversions: [NameAddress] {
        var out: [NameAddress] = []
        for i in entries.indices where isDiversion(i) {
            guard let p = parent(of: i) else { continue }
            let left = entries[p].target
            var uri = left.uri
            uri.parameters.remove("cause")
            uri.headers = nil
            let reason = cause(of: i).map(SIPMessage.diversionReason(forCause:)) ?? "unknown"
            out.append(
                NameAddress(
                    displayName: left.displayName, uri: uri,
                    parameters: [SIPParameter("reason", reason), SIPParameter("counter", "1")]))
        }
        return out.reversed()
    }
}
