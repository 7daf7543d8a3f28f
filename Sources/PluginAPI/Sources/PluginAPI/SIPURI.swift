/// A `sip:`, `sips:` or `tel:` URI split into the parts adapters rewrite. For `tel:` the number is in `user` and
/// `host` is empty. Text is kept as written (escapes are not decoded), so an unchanged URI serialises unchanged.
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    public var scheme: String
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]
    /// The `?a=b&c=d` part without the `?`, raw.
    public var headers: String?

    public init(
        scheme: String = "sip", user: String? = nil, password: String? = nil, host: String, port: Int? = nil,
        parameters: [SIPParameter] = [], headers: String? = nil
    ) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    public var isTel: Bool { Self.isTel(scheme) }

    private static func isTel(_ scheme: String) -> Bool {
        asciiEqualsIgnoringCase(scheme.utf8, "tel".utf8)
    }

    /// Parses a URI; returns nil when there is no scheme or (for SIP) no host.
    public init?(_ text: String) { self.init(parsing: Substring(text)) }

    /// Parses a URI inside a larger value (a name-addr's `<...>`) without copying it out first.
    init?(parsing text: Substring) {
        guard let uri = UserPartScan.withBytes(of: text, { Self.parse($0, 0, $0.count) }) else { return nil }
        self = uri
    }

    /// The URI in `b[from..<to]`. On bytes with integer offsets, as the scans of UserPartScan: every delimiter is
    /// ASCII, and URIs are parsed several times per call (Request-URI, From, To, Contact, identities), where
    /// Substring index arithmetic cost more than the parsing. Only the parts kept are built as Strings.
    static func parse(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> SIPURI? {
        let (lo, hi) = UserPartScan.trimmed(b, from, to)
        guard let colon = UserPartScan.first(b, UInt8(ascii: ":"), lo, hi), colon > lo else { return nil }
        for i in lo..<colon where !isSchemeByte(b[i]) { return nil }
        var uri = SIPURI(scheme: UserPartScan.string(b, lo, colon), host: "")
        let restStart = colon + 1
        var restEnd = hi
        if let q = UserPartScan.first(b, UInt8(ascii: "?"), restStart, hi) {
            uri.headers = UserPartScan.string(b, q + 1, hi)
            restEnd = q
        }
        if uri.isTel {
            let semi = firstOutsideQuotes(b, UInt8(ascii: ";"), restStart, restEnd)
            uri.user = UserPartScan.string(b, restStart, semi ?? restEnd)
            if let semi { uri.parameters = [SIPParameter].parse(b, semi + 1, restEnd) }
            return uri
        }
        // The user part may itself hold ';' (RFC 4475 semiuri), so split user from host at the last '@' first.
        var hostStart = restStart
        if let at = UserPartScan.last(b, UInt8(ascii: "@"), restStart, restEnd) {
            if let pc = UserPartScan.first(b, UInt8(ascii: ":"), restStart, at) {
                uri.user = UserPartScan.string(b, restStart, pc)
                uri.password = UserPartScan.string(b, pc + 1, at)
            } else {
                uri.user = UserPartScan.string(b, restStart, at)
            }
            hostStart = at + 1
        }
        var hostEnd = restEnd
        if let semi = UserPartScan.first(b, UInt8(ascii: ";"), hostStart, restEnd) {
            hostEnd = semi
            uri.parameters = [SIPParameter].parse(b, semi + 1, restEnd)
        }
        // IPv6 references keep their brackets in `host`.
        if hostStart < hostEnd, b[hostStart] == UInt8(ascii: "["),
            let close = UserPartScan.first(b, UInt8(ascii: "]"), hostStart, hostEnd)
        {
            uri.host = UserPartScan.string(b, hostStart, close + 1)
            if close + 1 < hostEnd, b[close + 1] == UInt8(ascii: ":") {
                uri.port = UserPartScan.integer(b, close + 2, hostEnd)
            }
        } else if let pc = UserPartScan.last(b, UInt8(ascii: ":"), hostStart, hostEnd) {
            uri.host = UserPartScan.string(b, hostStart, pc)
            guard let p = UserPartScan.integer(b, pc + 1, hostEnd), (0...65535).contains(p) else { return nil }
            uri.port = p
        } else {
            uri.host = UserPartScan.string(b, hostStart, hostEnd)
        }
        return uri.host.isEmpty ? nil : uri
    }

    /// Where the user part is in `text`, read exactly as `init(parsing:)` reads it, but without building the URI:
    /// nil when that initialiser would fail or find no user. For `tel:` it is the number (possibly empty).
    static func userRange(in text: Substring) -> Range<Substring.Index>? { UserPartScan.inURI(text) }

    static func isSchemeByte(_ b: UInt8) -> Bool {
        // RFC 3986 scheme characters: ASCII letters, digits, + - .
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2D
            || b == 0x2E
    }

    public var description: String {
        TextBuilder.build { write(to: &$0) }
    }

    /// Writes `description` into `s` (see `NameAddress.description`).
    func write(to s: inout TextBuilder) {
        s.append(scheme)
        s.append(":")
        if isTel {
            s.append(user ?? "")
        } else {
            if let user {
                s.append(user)
                if let password {
                    s.append(":")
                    s.append(password)
                }
                s.append("@")
            }
            s.append(host)
            if let port {
                s.append(":")
                s.append(port)
            }
        }
        for p in parameters {
            s.append(parameter: p)
        }
        if let headers {
            s.append("?")
            s.append(headers)
        }
    }
}
