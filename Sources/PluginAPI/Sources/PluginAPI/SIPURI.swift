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

    public var isTel: Bool { scheme.lowercased() == "tel" }

    /// Parses a URI; returns nil when there is no scheme or (for SIP) no host.
    public init?(_ text: String) {
        let t = Substring(text).trimmingSIPWhitespace()
        guard let colon = t.utf8.firstIndex(of: 0x3A) else { return nil }
        let scheme = String(t[..<colon])
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return nil }
        self.scheme = scheme
        var rest = t[t.index(after: colon)...]
        if let q = rest.utf8.firstIndex(of: 0x3F) {
            headers = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        } else {
            headers = nil
        }
        if scheme.lowercased() == "tel" {
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
            hostPart = rest[rest.index(after: at)...]
            if let pc = userInfo.utf8.firstIndex(of: 0x3A) {
                user = String(userInfo[..<pc])
                password = String(userInfo[userInfo.index(after: pc)...])
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
            parameters = [SIPParameter].parse(hostPart[hostPart.index(after: semi)...])
        } else {
            parameters = []
        }
        // IPv6 references keep their brackets in `host`.
        if hostPort.hasPrefix("["), let close = hostPort.utf8.firstIndex(of: 0x5D) {
            host = String(hostPort[...close])
            let after = hostPort[hostPort.index(after: close)...]
            port = after.hasPrefix(":") ? Int(after.dropFirst()) : nil
        } else if let pc = hostPort.utf8.lastIndex(of: 0x3A) {
            host = String(hostPort[..<pc])
            guard let p = Int(hostPort[hostPort.index(after: pc)...]), (0...65535).contains(p) else { return nil }
            port = p
        } else {
            host = String(hostPort)
            port = nil
        }
        if host.isEmpty { return nil }
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
