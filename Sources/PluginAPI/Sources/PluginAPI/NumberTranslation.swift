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

    static let nameAddrHeaders: [(String, NumberRole)] = [
        ("P-Preferred-Identity", .calling), ("Remote-Party-ID", .calling), ("Diversion", .redirecting),
        ("History-Info", .redirecting), ("Referred-By", .calling),
    ]

    /// Rewrites each number with `translate` and returns what changed.
    @discardableResult
    public static func apply(to message: inout SIPMessage, _ translate: (String, NumberRole) -> String) -> [Change] {
        var changes: [Change] = []
        func rewrite(_ uri: inout SIPURI, place: String, role: NumberRole) {
            guard let user = uri.user else { return }
            // A SIP user part can carry its own parameters (`0301234;phone-context=...`); only the number changes.
            let semi = user.firstIndex(of: ";")
            let number = semi.map { String(user[..<$0]) } ?? user
            guard looksLikeNumber(number) else { return }
            let translated = translate(number, role)
            guard translated != number else { return }
            uri.user = translated + (semi.map { String(user[$0...]) } ?? "")
            changes.append(Change(place: place, role: role, before: number, after: translated))
        }
        if message.isRequest, var ruri = message.requestURI {
            let before = changes.count
            rewrite(&ruri, place: "Request-URI", role: .called)
            // Written back only when the number changed: writing re-serialises the URI and the start line.
            if changes.count != before { message.requestURI = ruri }
        }
        if var to = message.to {
            let before = to
            rewrite(&to.uri, place: "To", role: .called)
            if to != before { message.to = to }
        }
        if var from = message.from {
            let before = from
            rewrite(&from.uri, place: "From", role: .calling)
            if from != before { message.from = from }
        }
        var headers = nameAddrHeaders
        headers.insert(("P-Asserted-Identity", message.isRequest ? .calling : .connected), at: 0)
        for (name, role) in headers where message.hasHeader(name) {
            var entries = message.nameAddresses(name)
            let before = entries
            for i in entries.indices { rewrite(&entries[i].uri, place: name, role: role) }
            if entries != before { message.setNameAddresses(name, entries) }
        }
        return changes
    }

    /// Digits with an optional `+`, `*`, `#` and visual separators: a user part that is a number, not a name.
    public static func looksLikeNumber(_ s: String) -> Bool {
        // On bytes: this runs for every URI user part of every message, and a Character walk (grapheme breaking,
        // Unicode properties) cost more than the rest of the check. Non-ASCII text is never a number here.
        var digit = false
        for b in s.utf8 {
            switch b {
            case 0x30...0x39: digit = true
            case 0x2B, 0x2A, 0x23, 0x2D, 0x2E, 0x28, 0x29, 0x20: continue
            default: return false
            }
        }
        return digit
    }
}

/// The order in which the host applies an adapter's hooks (documented on `PeerAdapter`). It lives here, not in the
/// host, so that a plugin's own tests (through PluginTestKit) run exactly what the host runs.
public enum AdapterPipeline {
    /// Peer -> house: headers, numbers, SDP.
    @discardableResult
    public static func fromPeer(_ m: inout SIPMessage, adapter: any PeerAdapter) -> [NumberTranslation.Change] {
        adapter.headersFromPeer(&m)
        let changes = NumberTranslation.apply(to: &m) { adapter.numberFromPeer($0, role: $1).digits }
        if var sdp = m.sdp {
            let before = sdp
            adapter.sdpFromPeer(&sdp, in: m)
            if sdp != before { m.sdp = sdp }
        }
        return changes
    }

    /// House -> peer: numbers, headers, SDP.
    @discardableResult
    public static func toPeer(_ m: inout SIPMessage, adapter: any PeerAdapter) -> [NumberTranslation.Change] {
        let changes = NumberTranslation.apply(to: &m) {
            adapter.numberToPeer(PhoneNumber(asReceived: $0), role: $1)
        }
        adapter.headersToPeer(&m)
        if var sdp = m.sdp {
            let before = sdp
            adapter.sdpToPeer(&sdp, in: m)
            if sdp != before { m.sdp = sdp }
        }
        return changes
    }
}
