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

    /// The long name a written name stands for, in any case: a compact letter becomes its (lower-case) long name,
    /// any other name is returned as it is, without a copy. What lookups pass to `hasName(_:)`: unlike
    /// `canonical(_:)` it never allocates (a lower-cased name of more than 15 bytes, such as
    /// `p-asserted-identity`, is a heap String, built several times per message when lookups went through it).
    @inlinable
    public static func longForm(_ name: String) -> String {
        let n = name.utf8
        if n.count == 1, let long = compactLong(n.first!) { return long }
        return name
    }

    /// Whether this field's name is the header `long` (a long name in any case, as `longForm(_:)` or
    /// `canonical(_:)` return), compact forms understood, without building a lower-cased copy.
    @inlinable
    public func hasName(_ long: String) -> Bool {
        let n = name.utf8
        if n.count == 1, let l = SIPHeader.compactLong(n.first!) { return asciiEqualsIgnoringCase(l.utf8, long.utf8) }
        return asciiEqualsIgnoringCase(n, long.utf8)
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

    /// Whether `long` (a long name in any case) is one of `listHeaders`, without a lower-cased copy.
    static func isListHeader(_ long: String) -> Bool { listHeaderNames.contains(long) }

    private static let listHeaderNames = NameSet(listHeaders)

    /// Lower-case long header names, for membership tests that run per header of every message (is this a list
    /// header, a leg header): a written name (any case, compact forms understood) is compared on its bytes only
    /// with the names of its length, without building a lower-cased copy.
    public struct NameSet: Sendable {
        private var byLength: [[[UInt8]]] = []

        /// - Parameter names: long names in lower case.
        public init(_ names: some Sequence<String>) {
            for name in names {
                let bytes = Array(name.utf8)
                while byLength.count <= bytes.count { byLength.append([]) }
                byLength[bytes.count].append(bytes)
            }
        }

        public func contains(_ name: String) -> Bool {
            var long = SIPHeader.longForm(name)
            return long.withUTF8 { b in
                guard b.count < byLength.count else { return false }
                for candidate in byLength[b.count] {
                    var i = 0
                    while i < b.count, asciiLower(b[i]) == candidate[i] { i += 1 }
                    if i == b.count { return true }
                }
                return false
            }
        }
    }
}
