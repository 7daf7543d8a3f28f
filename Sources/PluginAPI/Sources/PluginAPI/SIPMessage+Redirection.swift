/// Conversions between the two ways peers report that a call was forwarded. The house format uses Diversion
/// (RFC 5806): one entry per forwarding party, most recent first, each with a `reason`. Avaya, Microsoft and IMS
/// equipment use History-Info (RFC 7044): every target the request had, in order, with a hierarchical `index`;
/// why a request was retargeted sits in the `cause` URI parameter of the new target (RFC 4458), or, as RFC 4244
/// equipment writes it, in a `Reason` header escaped into the URI of the target that was left.
extension SIPMessage {
    /// RFC 5806 reason for an RFC 4458 cause (the table of RFC 4458 section 3.1 and RFC 5806 section 2).
    public static func diversionReason(forCause cause: Int) -> String {
        switch cause {
        case 302: "unconditional"
        case 486: "user-busy"
        case 408: "no-answer"
        case 480, 487: "deflection"
        case 503: "unavailable"
        default: "unknown"
        }
    }

    /// RFC 4458 cause for an RFC 5806 reason. Reasons RFC 4458 has no code for (`time-of-day`, `do-not-disturb`,
    /// `follow-me`, `out-of-service`, `away`) become 404, its "unknown/not available".
    public static func redirectionCause(forReason reason: String) -> Int {
        switch reason.lowercased() {
        case "unconditional": 302
        case "user-busy": 486
        case "no-answer": 408
        case "deflection": 480
        case "unavailable": 503
        default: 404
        }
    }

    /// Replaces History-Info by Diversion, as RFC 6044 section 6.1 maps them: every History-Info entry that
    /// retargeted the request to a new user (`mp` tag of RFC 7044, or a redirection cause) becomes one Diversion
    /// entry for the party it was retargeted from (most recent first, `counter=1` each) with the reason of that
    /// retargeting. Entries that only changed the contact of the same user (`rc`), kept the target (`np`), or were
    /// forwarded without a cause are not diversions. A message that already has Diversion keeps it; History-Info is
    /// removed either way, since the house carries redirection only once. `HistoryInfo` reads the entries.
    public mutating func convertHistoryInfoToDiversion() {
        let entries = nameAddresses("History-Info")
        guard !entries.isEmpty else { return }
        removeHeader("History-Info")
        guard !hasHeader("Diversion") else { return }
        let diversions = HistoryInfo(entries).diversions
        if !diversions.isEmpty { setNameAddresses("Diversion", diversions) }
    }

    /// Replaces Diversion by History-Info: the oldest diverting party gets index 1, each later one and finally the
    /// current target (the Request-URI, or To in a response) the next child index with the `cause` of the diversion
    /// that led there and `mp` naming the entry it was mapped from (RFC 7044 section 4.3.3.1.2). A message that
    /// already has History-Info keeps it; Diversion is removed either way.
    public mutating func convertDiversionToHistoryInfo() {
        let diversions = nameAddresses("Diversion")
        guard !diversions.isEmpty else { return }
        removeHeader("Diversion")
        guard !hasHeader("History-Info") else { return }
        let oldestFirst = Array(diversions.reversed())
        var entries: [NameAddress] = []
        var index = "1"
        for (k, d) in oldestFirst.enumerated() {
            var uri = d.uri
            var parameters = [SIPParameter("index", index)]
            if k > 0 {
                let cause = Self.redirectionCause(forReason: Self.reason(of: oldestFirst[k - 1]))
                uri.parameters.set("cause", String(cause))
                parameters.append(SIPParameter("mp", String(index.dropLast(2))))
            }
            // RFC 4244 equipment reads why a target was left from a Reason escaped into its URI (RFC 7044 section
            // 9.4 keeps it there too): each diverting party's entry carries the cause of its own diversion.
            uri.headers = "Reason=SIP%3Bcause%3D\(Self.redirectionCause(forReason: Self.reason(of: d)))"
            entries.append(NameAddress(displayName: d.displayName, uri: uri, parameters: parameters))
            index += ".1"
        }
        if var target = requestURI ?? to?.uri, let last = oldestFirst.last {
            target.parameters.set("cause", String(Self.redirectionCause(forReason: Self.reason(of: last))))
            entries.append(
                NameAddress(
                    uri: target,
                    parameters: [SIPParameter("index", index), SIPParameter("mp", String(index.dropLast(2)))]))
        }
        setNameAddresses("History-Info", entries)
    }

    static func reason(of diversion: NameAddress) -> String { diversion.parameters[parameter: "reason"] ?? "unknown" }

}

extension String {
    /// `%3B` -> `;` and so on, for escaped headers in URIs; invalid escapes are kept as written.
    func removingPercentEncodingForSIP() -> String {
        var bytes: [UInt8] = []
        var u = Array(utf8)[...]
        while let b = u.first {
            if b == UInt8(ascii: "%"), u.count >= 3,
                let v = UInt8(String(decoding: u.dropFirst().prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                u = u.dropFirst(3)
            } else {
                bytes.append(b)
                u = u.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
