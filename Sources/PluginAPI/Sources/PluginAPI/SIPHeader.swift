/// One header field line as it travels: name as written (long or compact form) and the unfolded value.
public struct SIPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// The long form of the name, lower-cased, so `f`, `From` and `FROM` compare equal.
    public var canonicalName: String { SIPHeader.canonical(name) }

    /// RFC 3261 section 7.3.3 and later RFCs' compact forms, mapped to the long name (lower-cased).
    public static let compactForms: [String: String] = [
        "i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length", "c": "content-type",
        "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via", "r": "refer-to",
        "b": "referred-by", "o": "event", "u": "allow-events", "x": "session-expires", "a": "accept-contact",
        "j": "reject-contact", "d": "request-disposition", "y": "identity", "n": "identity-info",
    ]

    public static func canonical(_ name: String) -> String {
        let lower = name.lowercased()
        if lower.count == 1, let long = compactForms[lower] { return long }
        return lower
    }

    /// Headers whose value may hold several comma-separated entries (RFC 3261 section 7.3.1). Splitting any other
    /// header on commas would break values such as dates or User-Agent strings.
    public static let listHeaders: Set<String> = [
        "via", "contact", "route", "record-route", "p-asserted-identity", "p-preferred-identity", "diversion",
        "history-info", "allow", "supported", "require", "proxy-require", "unsupported", "allow-events",
        "accept", "accept-encoding", "accept-language", "remote-party-id", "path", "service-route",
    ]
}
