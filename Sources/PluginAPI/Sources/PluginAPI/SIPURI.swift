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
        let t = text.trimmingSIPWhitespace()
        guard let colon = t.utf8.firstIndex(of: 0x3A) else { return nil }
        // Bytes, not Characters, throughout: the delimiters are ASCII (see splitOutsideQuotes).
        let schemeBytes = t.utf8[..<colon]
        guard !schemeBytes.isEmpty, schemeBytes.allSatisfy({ Self.isSchemeByte($0) }) else { return nil }
        let scheme = String(t[..<colon])
        self.scheme = scheme
        var rest = t[t.utf8.index(after: colon)...]
        if let q = rest.utf8.firstIndex(of: 0x3F) {
            headers = String(rest[rest.utf8.index(after: q)...])
            rest = rest[..<q]
        } else {
            headers = nil
        }
        if Self.isTel(scheme) {
            let parts = splitOutsideQuotes(rest, separator: ";")
            user = String(parts[0])
            password = nil
            host = ""
            port = nil
            parameters = parts.count > 1 ? [SIPParameter].parse(rest[parts[1].startIndex...]) : []
            return
        }
        // The user part may itself hold ';' (RFC 4475 semiuri), so split user from host at the last '@' first.
        var hostPart = rest
        if let at = rest.utf8.lastIndex(of: 0x40) {
            let userInfo = rest[..<at]
            hostPart = rest[rest.utf8.index(after: at)...]
            if let pc = userInfo.utf8.firstIndex(of: 0x3A) {
                user = String(userInfo[..<pc])
                password = String(userInfo[userInfo.utf8.index(after: pc)...])
            } else {
                user = String(userInfo)
                password = nil
            }
        } else {
            user = nil
            password = nil
        }
        var hostPort = hostPart
        if let semi = hostPart.utf8.firstIndex(of: 0x3B) {
            hostPort = hostPart[..<semi]
            parameters = [SIPParameter].parse(hostPart[hostPart.utf8.index(after: semi)...])
        } else {
            parameters = []
        }
        // IPv6 references keep their brackets in `host`.
        if hostPort.utf8.first == 0x5B, let close = hostPort.utf8.firstIndex(of: 0x5D) {
            let afterClose = hostPort.utf8.index(after: close)
            host = String(hostPort[..<afterClose])
            let after = hostPort[afterClose...]
            port = after.utf8.first == 0x3A ? Int(after[after.utf8.index(after: after.startIndex)...]) : nil
        } else if let pc = hostPort.utf8.lastIndex(of: 0x3A) {
            host = String(hostPort[..<pc])
            guard let p = Int(hostPort[hostPort.utf8.index(after: pc)...]), (0...65535).contains(p) else { return nil }
            port = p
        } else {
            host = String(hostPort)
            port = nil
        }
        if host.isEmpty { return nil }
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
        var s = scheme + ":"
        if isTel {
            s += user ?? ""
        } else {
            if let user {
                s += user
                if let password { s += ":" + password }
                s += "@"
            }
            s += host
            if let port { s += ":\(port)" }
        }
        for p in parameters { s += ";" + p.text }
        if let headers { s += "?" + headers }
        return s
    }
}
