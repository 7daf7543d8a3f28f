/// Finds every number a message carries and passes it through an adapter's number hook, so adapters never parse
/// headers to find numbers. A URI user part is treated as a number only when it looks like one (digits, `+`, `*`,
/// `#` and visual separators); `alice` or `anonymous` pass untouched.
public enum NumberTranslation {
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public var place: String
        public var role: NumberRole
        public var before: String
        public var after: String
        public var description: String { "\(place) (\(role.rawValue)): \(before) -> \(after)" }
    }

    /// The headers whose name-addr entries carry numbers, in the order their changes are reported: To and From
    /// (the first field only, one entry, as `SIPMessage.to` and `.from` read them), then every field of the others
    /// (each entry of the list headers). No two names have the same length, so a field's name is classified by its
    /// length and one comparison (`kind(of:)`).
    enum NumberHeader: Int, CaseIterable {
        case to, from, assertedIdentity, preferredIdentity, remotePartyID, diversion, historyInfo, referredBy

        var name: String {
            switch self {
            case .to: "To"
            case .from: "From"
            case .assertedIdentity: "P-Asserted-Identity"
            case .preferredIdentity: "P-Preferred-Identity"
            case .remotePartyID: "Remote-Party-ID"
            case .diversion: "Diversion"
            case .historyInfo: "History-Info"
            case .referredBy: "Referred-By"
            }
        }

        /// P-Asserted-Identity names the caller in a request and the answering party in a response.
        func role(inRequest: Bool) -> NumberRole {
            switch self {
            case .to: .called
            case .from, .preferredIdentity, .remotePartyID, .referredBy: .calling
            case .assertedIdentity: inRequest ? .calling : .connected
            case .diversion, .historyInfo: .redirecting
            }
        }

        /// Whether each entry of a field counts (`SIPHeader.listHeaders`), looked up once per kind.
        var isList: Bool { Self.isList[rawValue] }
        private static let isList = allCases.map { SIPHeader.isListHeader($0.name) }

        /// The kind of a field name as written (any case, compact forms `t`, `f` and `b` understood), or nil.
        static func kind(of name: String) -> NumberHeader? {
            let n = name.utf8
            let candidate: NumberHeader
            switch n.count {
            case 1:
                switch asciiLower(n.first!) {
                case UInt8(ascii: "t"): return .to
                case UInt8(ascii: "f"): return .from
                case UInt8(ascii: "b"): return .referredBy
                default: return nil
                }
            case 2: candidate = .to
            case 4: candidate = .from
            case 9: candidate = .diversion
            case 11: candidate = .referredBy
            case 12: candidate = .historyInfo
            case 15: candidate = .remotePartyID
            case 19: candidate = .assertedIdentity
            case 20: candidate = .preferredIdentity
            default: return nil
            }
            return asciiEqualsIgnoringCase(n, candidate.name.utf8) ? candidate : nil
        }
    }

    /// Rewrites each number with `translate` and returns what changed.
    ///
    /// Only the number in a URI's user part changes; the rest of the Request-URI or header field stays byte for byte
    /// as it was (a B2BUA should not reformat what it only needs to translate). Places are found by scanning the
    /// text the way `SIPURI` and `NameAddress` parse it, without building either: this runs twice for every message
    /// of every call, and parsing each To and From into values only to read their user part was a third of the
    /// INVITE path's time. A value those parsers would refuse is left alone, as before.
    @discardableResult
    public static func apply(to message: inout SIPMessage, _ translate: (String, NumberRole) -> String) -> [Change] {
        var changes: [Change] = []
        /// The user part `text[user]` with its number translated, or nil when nothing changes.
        func translated(_ text: Substring, user: Range<Substring.Index>, place: String, role: NumberRole) -> String? {
            let part = text[user]
            // A SIP user part can carry its own parameters (`0301234;phone-context=...`); only the number changes.
            let semi = part.utf8.firstIndex(of: UInt8(ascii: ";"))
            let numberText = semi.map { part[..<$0] } ?? part
            guard looksLikeNumber(numberText.utf8) else { return nil }
            let number = String(numberText)
            let after = translate(number, role)
            guard after != number else { return nil }
            changes.append(Change(place: place, role: role, before: number, after: after))
            return semi.map { after + part[$0...] } ?? after
        }
        /// `value` with the number of each listed entry translated (one entry unless `list`), or nil if none changed.
        func rewritten(_ value: String, list: Bool, place: String, role: NumberRole) -> String? {
            let all = Substring(value)
            var edits: [(Range<Substring.Index>, String)] = []
            var rest = all
            while true {
                let comma = list ? firstOutsideQuotes(rest, UInt8(ascii: ",")) : nil
                let entry = rest[..<(comma ?? rest.endIndex)]
                if let user = NameAddress.userRange(in: entry),
                    let new = translated(entry, user: user, place: place, role: role)
                {
                    edits.append((user, new))
                }
                guard let comma else { break }
                rest = rest[rest.utf8.index(after: comma)...]
            }
            guard !edits.isEmpty else { return nil }
            var out = ""
            out.reserveCapacity(value.utf8.count + 16)
            var from = all.startIndex
            for (range, new) in edits {
                out += all[from..<range.lowerBound]
                out += new
                from = range.upperBound
            }
            out += all[from...]
            return out
        }

        if case .request(let method, let uri, let version) = message.startLine {
            let text = Substring(uri)
            if let user = SIPURI.userRange(in: text),
                let new = translated(text, user: user, place: "Request-URI", role: .called)
            {
                message.startLine = .request(
                    method: method, uri: String(text[..<user.lowerBound]) + new + text[user.upperBound...],
                    version: version)
            }
        }
        // One pass classifies every field; a second visits the kinds present, in report order, which for most
        // messages is only To and From. This runs twice for every message of every call: a pass over all fields
        // per header name, eight of them, was a tenth of the INVITE path's instructions.
        var present: UInt16 = 0
        var firstTo: Int?
        var firstFrom: Int?
        for i in message.headers.indices {
            guard let kind = NumberHeader.kind(of: message.headers[i].name) else { continue }
            present |= 1 << kind.rawValue
            if kind == .to, firstTo == nil { firstTo = i }
            if kind == .from, firstFrom == nil { firstFrom = i }
        }
        let inRequest = message.isRequest
        for kind in NumberHeader.allCases where present & (1 << kind.rawValue) != 0 {
            let place = kind.name
            let role = kind.role(inRequest: inRequest)
            func rewrite(_ i: Int) {
                if let new = rewritten(message.headers[i].value, list: kind.isList, place: place, role: role) {
                    message.headers[i].value = new
                }
            }
            switch kind {
            case .to: rewrite(firstTo!)
            case .from: rewrite(firstFrom!)
            default:
                for i in message.headers.indices where NumberHeader.kind(of: message.headers[i].name) == kind {
                    rewrite(i)
                }
            }
        }
        return changes
    }

    /// Digits with an optional `+`, `*`, `#` and visual separators: a user part that is a number, not a name.
    public static func looksLikeNumber(_ s: String) -> Bool { looksLikeNumber(s.utf8) }

    static func looksLikeNumber<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        // On bytes: this runs for every URI user part of every message, and a Character walk (grapheme breaking,
        // Unicode properties) cost more than the rest of the check. Non-ASCII text is never a number here.
        var digit = false
        for b in bytes {
            switch b {
            case 0x30...0x39: digit = true
            case 0x2B, 0x2A, 0x23, 0x2D, 0x2E, 0x28, 0x29, 0x20: continue
            default: return false
            }
        }
        return digit
    }
}
