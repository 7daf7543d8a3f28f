import COsip
import PluginAPI

/// A digest challenge from a `WWW-Authenticate` (401) or `Proxy-Authenticate` (407) header, RFC 3261 section 22.4
/// with RFC 2617's qop, and the answer to it. Patchbay answers challenges as a client towards peers that demand
/// it (ITSP trunks, registrars); MD5 and MD5-sess only, which is what SIP deployments use (RFC 8760's SHA-256 is
/// refused with a clear reason rather than answered wrongly).
public struct DigestChallenge: Sendable, Equatable {
    public var realm: String
    public var nonce: String
    public var opaque: String?
    public var algorithm: String
    /// The qop values offered (`auth`, `auth-int`); empty for an RFC 2069-style challenge.
    public var qop: [String]
    /// The server says only the nonce expired: the same credentials are answered again without counting it as a
    /// refusal (RFC 2617 section 3.2.1).
    public var stale: Bool
    /// From a 407's Proxy-Authenticate: the answer goes in Proxy-Authorization.
    public var isProxy = false
    /// The header the answer goes in.
    public var answerHeader: String { isProxy ? "Proxy-Authorization" : "Authorization" }

    /// Parses one challenge header value; nil when it is not a Digest challenge with realm and nonce.
    public init?(_ header: String) {
        guard let params = Self.parameters(header) else { return nil }
        guard let realm = params["realm"], let nonce = params["nonce"] else { return nil }
        self.realm = realm
        self.nonce = nonce
        opaque = params["opaque"]
        algorithm = params["algorithm"] ?? "MD5"
        qop = (params["qop"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        stale = params["stale"]?.lowercased() == "true"
    }

    /// Why this challenge cannot be answered, or nil when it can.
    public var unsupportedReason: String? {
        let a = algorithm.uppercased()
        if a != "MD5" && a != "MD5-SESS" { return "digest algorithm \(algorithm) is not supported (MD5 only)" }
        if !qop.isEmpty && !qop.contains("auth") && !qop.contains("auth-int") {
            return "qop \(qop.joined(separator: ",")) is not supported"
        }
        return nil
    }

    /// The `Authorization`/`Proxy-Authorization` value for `method` on `uri` (the Request-URI as sent). `cnonce`
    /// and `nonceCount` matter only when the server asked for qop; `body` only for qop=auth-int.
    public func answer(
        method: String, uri: String, username: String, password: String, cnonce: String, nonceCount: UInt32 = 1,
        body: [UInt8] = []
    ) -> String? {
        guard unsupportedReason == nil else { return nil }
        let qopChosen: String? = qop.isEmpty ? nil : (qop.contains("auth") ? "auth" : "auth-int")
        let nc = String(nonceCount, radix: 16)
        let ncText = String(repeating: "0", count: max(0, 8 - nc.count)) + nc
        let response = Self.response(
            username: username, realm: realm, password: password, method: method, uri: uri, nonce: nonce,
            algorithm: algorithm, qop: qopChosen, nonceCount: ncText, cnonce: cnonce, body: body)
        var parts = [
            "username=\"\(Self.quoted(username))\"", "realm=\"\(Self.quoted(realm))\"",
            "nonce=\"\(Self.quoted(nonce))\"",
            "uri=\"\(Self.quoted(uri))\"", "response=\"\(response)\"", "algorithm=\(algorithm)",
        ]
        if let opaque { parts.append("opaque=\"\(Self.quoted(opaque))\"") }
        if let qopChosen { parts += ["qop=\(qopChosen)", "nc=\(ncText)", "cnonce=\"\(Self.quoted(cnonce))\""] }
        return "Digest " + parts.joined(separator: ", ")
    }

    /// The `response` value of RFC 2617 section 3.2.2.1, for an answer Patchbay sends and for one it checks:
    /// MD5 or MD5-sess, no qop (RFC 2069), qop=auth or qop=auth-int (which hashes the body).
    package static func response(
        username: String, realm: String, password: String, method: String, uri: String, nonce: String,
        algorithm: String, qop: String?, nonceCount: String, cnonce: String, body: [UInt8] = []
    ) -> String {
        var ha1 = md5Hex("\(username):\(realm):\(password)")
        if algorithm.uppercased() == "MD5-SESS" { ha1 = md5Hex("\(ha1):\(nonce):\(cnonce)") }
        let ha2 = qop == "auth-int" ? md5Hex("\(method):\(uri):\(md5Hex(body))") : md5Hex("\(method):\(uri)")
        return qop.map { md5Hex("\(ha1):\(nonce):\(nonceCount):\(cnonce):\($0):\(ha2)") }
            ?? md5Hex("\(ha1):\(nonce):\(ha2)")
    }

    /// A client nonce for an answer with qop.
    package static func cnonce() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 16) }

    /// The auth-params of a `Digest ...` header value (a challenge or an Authorization), names lowercased and
    /// quotes removed; nil when the scheme is not Digest.
    package static func parameters(_ header: String) -> [String: String]? {
        var rest = Substring(header).digestTrimmed()
        guard let space = rest.firstIndex(where: { $0 == " " || $0 == "\t" }), rest[..<space].lowercased() == "digest"
        else { return nil }
        rest = rest[space...]
        var params: [String: String] = [:]
        for item in splitParameters(rest) {
            let pair = item.digestTrimmed()
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let key = pair[..<eq].digestTrimmed().lowercased()
            var value = pair[pair.index(after: eq)...].digestTrimmed()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            params[key] = String(value).replacingOccurrences(of: "\\\"", with: "\"")
        }
        return params
    }

    /// Comma-separated auth-params; commas inside quoted strings (a qop list, an opaque) do not split.
    private static func splitParameters(_ text: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var inQuotes = false
        var escaped = false
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if escaped {
                escaped = false
            } else if c == "\\" && inQuotes {
                escaped = true
            } else if c == "\"" {
                inQuotes.toggle()
            } else if c == ",", !inQuotes {
                parts.append(text[start..<i])
                start = text.index(after: i)
            }
            i = text.index(after: i)
        }
        parts.append(text[start...])
        return parts
    }

    private static func quoted(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    static func md5Hex(_ text: String) -> String { md5Hex(Array(text.utf8)) }

    static func md5Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeBufferPointer { b in
            digest.withUnsafeMutableBufferPointer { d in
                pb_md5(b.baseAddress, UInt32(b.count), d.baseAddress)
            }
        }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension DigestChallenge {
    /// The challenge of a 401 or 407 to answer with credentials for `realm` (nil: any realm): the first one
    /// Patchbay can answer, else the first naming that realm (its `unsupportedReason` says why it cannot be
    /// answered), else nil.
    package static func preferred(in response: SIPMessage, realm: String?) -> DigestChallenge? {
        let usable = challenges(in: response).challenges.filter { realm == nil || $0.realm == realm }
        return usable.first { $0.unsupportedReason == nil } ?? usable.first
    }

    /// The challenges a 401 or 407 carries, in order, with the header name the answer goes in.
    public static func challenges(in response: SIPMessage) -> (challenges: [DigestChallenge], answerHeader: String) {
        let proxy = response.statusCode == 407
        let values = response.headers.filter { $0.canonicalName == (proxy ? "proxy-authenticate" : "www-authenticate") }
            .map(\.value)
        let challenges = values.compactMap(DigestChallenge.init).map { c -> DigestChallenge in
            var c = c
            c.isProxy = proxy
            return c
        }
        return (challenges, proxy ? "Proxy-Authorization" : "Authorization")
    }
}

extension Substring {
    fileprivate func digestTrimmed() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return s
    }
}
