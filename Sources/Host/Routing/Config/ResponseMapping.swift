import PluginAPI

/// What a peer's final response becomes before routing and the caller see it (`responses:` on the peer): a gateway
/// that answers 404 for a number that is only unreachable for now, mapped to 480, or a Q.850 cause added where the
/// peer gave none.
public struct ResponseMapping: Sendable, Equatable {
    public var status: Int
    /// The reason phrase; nil: the standard one for `status`.
    public var reason: String?
    /// A Q.850 cause (RFC 3326) to put in a `Reason` header, replacing any Q.850 `Reason` the peer sent.
    public var q850: Int?

    /// `response` with the mapped status and phrase, and the Q.850 `Reason` if one is set.
    package func apply(to response: SIPMessage, standardPhrase: (Int) -> String) -> SIPMessage {
        var r = response
        guard case .response(let version, _, _) = r.startLine else { return r }
        r.startLine = .response(version: version, status: status, reason: reason ?? standardPhrase(status))
        if let q850 {
            r.removeHeaders(where: { $0.hasName("reason") && $0.value.lowercased().hasPrefix("q.850") })
            r.headers.append(SIPHeader("Reason", "Q.850;cause=\(q850)"))
        }
        return r
    }
}
