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
        // Already canonical: no copy.
        let upper = name.utf8.contains { $0 >= 0x41 && $0 <= 0x5A }
        if !upper { return name }
        // Header names are tokens, so ASCII: lower-cased byte by byte into a new String (one that fits in a small
        // string allocates nothing), not through String.lowercased()'s Unicode case mapping. Every lookup by a
        // written name ("Call-ID", "CSeq", "From") comes here, several per message.
        guard name.utf8.allSatisfy({ $0 < 0x80 }) else { return name.lowercased() }
        return String(unsafeUninitializedCapacity: name.utf8.count) { buffer in
            var i = 0
            for b in name.utf8 {
                buffer[i] = asciiLower(b)
                i += 1
            }
            return i
        }
    }

    /// Whether this field's name is `canonical` (a lower-case long form as `canonical(_:)` returns), without building
    /// the lower-cased copy: header lookups run several times per message on the call path.
    @inlinable
    public func hasName(_ canonical: String) -> Bool {
        let n = name.utf8
        if n.count == 1, let long = SIPHeader.compactLong(n.first!) { return long == canonical }
        return asciiEqualsIgnoringCase(n, canonical.utf8)
    }

    /// `compactForms` by letter, so that reading a compact name is an array index, not a dictionary lookup of a new
    /// one-letter String.
    @usableFromInline
    static let compactByLetter: [String?] = {
        var table = [String?](repeating: nil, count: 26)
        for (short, long) in compactForms { table[Int(short.utf8.first! - UInt8(ascii: "a"))] = long }
        return table
    }()

    /// The long name a one-letter compact form stands for (either case), as in `compactForms`.
    @usableFromInline
    static func compactLong(_ byte: UInt8) -> String? {
        let letter = asciiLower(byte)
        guard letter >= UInt8(ascii: "a"), letter <= UInt8(ascii: "z") else { return nil }
        return compactByLetter[Int(letter - UInt8(ascii: "a"))]
    }

    /// Headers whose value may hold several comma-separated entries (RFC 3261 section 7.3.1). Splitting any other
    /// header on commas would break values such as dates or User-Agent strings.
    public static let listHeaders: Set<String> = [
        "via", "contact", "route", "record-route", "p-asserted-identity", "p-preferred-identity", "diversion",
        "history-info", "allow", "supported", "require", "proxy-require", "unsupported", "allow-events",
        "accept", "accept-encoding", "accept-language", "remote-party-id", "path", "service-route",
    ]
}
