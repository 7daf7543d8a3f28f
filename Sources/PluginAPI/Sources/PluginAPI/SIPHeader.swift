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
        if name.utf8.count == 1, let long = compactLong(name.utf8.first!) { return long }
        // Already canonical (the names this host and the profiles pass in): no copy.
        if !name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return name }
        return name.lowercased()
    }

    /// Whether this field's name is `canonical` (a lower-case long form as `canonical(_:)` returns), without building
    /// the lower-cased copy: header lookups run several times per message on the call path.
    @inlinable
    public func hasName(_ canonical: String) -> Bool {
        let n = name.utf8
        if n.count == 1 {
            guard let long = SIPHeader.compactLong(n.first!) else {
                return canonical.utf8.count == 1 && SIPHeader.lower(n.first!) == canonical.utf8.first!
            }
            return long == canonical
        }
        guard n.count == canonical.utf8.count else { return false }
        return n.elementsEqual(canonical.utf8) { SIPHeader.lower($0) == $1 }
    }

    @usableFromInline @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// The long name a one-letter compact form stands for (either case), as in `compactForms`.
    @usableFromInline
    static func compactLong(_ byte: UInt8) -> String? {
        switch lower(byte) {
        case UInt8(ascii: "i"): "call-id"
        case UInt8(ascii: "m"): "contact"
        case UInt8(ascii: "e"): "content-encoding"
        case UInt8(ascii: "l"): "content-length"
        case UInt8(ascii: "c"): "content-type"
        case UInt8(ascii: "f"): "from"
        case UInt8(ascii: "s"): "subject"
        case UInt8(ascii: "k"): "supported"
        case UInt8(ascii: "t"): "to"
        case UInt8(ascii: "v"): "via"
        case UInt8(ascii: "r"): "refer-to"
        case UInt8(ascii: "b"): "referred-by"
        case UInt8(ascii: "o"): "event"
        case UInt8(ascii: "u"): "allow-events"
        case UInt8(ascii: "x"): "session-expires"
        case UInt8(ascii: "a"): "accept-contact"
        case UInt8(ascii: "j"): "reject-contact"
        case UInt8(ascii: "d"): "request-disposition"
        case UInt8(ascii: "y"): "identity"
        case UInt8(ascii: "n"): "identity-info"
        default: nil
        }
    }

    /// Headers whose value may hold several comma-separated entries (RFC 3261 section 7.3.1). Splitting any other
    /// header on commas would break values such as dates or User-Agent strings.
    public static let listHeaders: Set<String> = [
        "via", "contact", "route", "record-route", "p-asserted-identity", "p-preferred-identity", "diversion",
        "history-info", "allow", "supported", "require", "proxy-require", "unsupported", "allow-events",
        "accept", "accept-encoding", "accept-language", "remote-party-id", "path", "service-route",
    ]
}
