import PluginAPI

/// The server side of digest authentication, for peers configured with `inbound_auth`: challenges with a nonce
/// that needs no storage (a timestamp and a hash of it with a secret of this process), and checks an answer.
/// A nonce is good for `nonceLifetime` seconds; an older one is answered with a new challenge marked stale.
package struct DigestVerifier: Sendable {
    package enum Outcome: Equatable {
        case accepted
        /// No answer to our challenge in the request.
        case missing
        /// The answer was right once, but its nonce is too old: challenge again with stale=true.
        case stale
        /// Wrong user, realm, URI or password, or a nonce we never gave.
        case refused(String)
    }

    let secret: String
    var nonceLifetime: UInt64 = 300

    package init(
        secret: String = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    ) {
        self.secret = secret
    }

    func nonce(now seconds: UInt64) -> String {
        let ts = String(seconds, radix: 16)
        return ts + "." + DigestChallenge.md5Hex("\(ts):\(secret)")
    }

    /// A `WWW-Authenticate` value.
    package func challenge(realm: String, now seconds: UInt64, stale: Bool = false) -> String {
        "Digest realm=\"\(realm)\", nonce=\"\(nonce(now: seconds))\", algorithm=MD5, qop=\"auth\""
            + (stale ? ", stale=TRUE" : "")
    }

    /// Checks the request's Authorization (or Proxy-Authorization) for `realm`.
    package func verify(
        _ request: SIPMessage, method: String, username: String, password: String, realm: String,
        now seconds: UInt64
    ) -> Outcome {
        let answers = request.headers.filter { $0.hasName("authorization") || $0.hasName("proxy-authorization") }
            .compactMap { DigestChallenge.parameters($0.value) }
            .filter { $0["realm"] == realm }
        guard let p = answers.first else { return .missing }
        guard p["username"] == username else { return .refused("unknown user '\(p["username"] ?? "")'") }
        guard let nonce = p["nonce"], let dot = nonce.firstIndex(of: "."),
            let ts = UInt64(nonce[..<dot], radix: 16),
            nonce[nonce.index(after: dot)...] == DigestChallenge.md5Hex("\(nonce[..<dot]):\(secret)")
        else { return .refused("a nonce Patchbay did not give") }
        // RFC 2617 section 3.2.2.5 asks servers to compare `uri` with the Request-URI, but widespread clients
        // (sipp among them) write the target's address there instead, so the answer is checked against the uri
        // it names; the nonce's lifetime bounds a replay.
        guard let uri = p["uri"], !uri.isEmpty else { return .refused("no uri in the answer") }
        let algorithm = (p["algorithm"] ?? "MD5").uppercased()
        guard algorithm == "MD5" else { return .refused("algorithm \(algorithm)") }
        let qop = p["qop"]?.lowercased()
        if let qop { guard qop == "auth", p["nc"] != nil, p["cnonce"] != nil else { return .refused("qop \(qop)") } }
        let expected = DigestChallenge.response(
            username: username, realm: realm, password: password, method: method, uri: uri, nonce: nonce,
            algorithm: algorithm, qop: qop, nonceCount: p["nc"] ?? "", cnonce: p["cnonce"] ?? "")
        guard p["response"]?.lowercased() == expected else { return .refused("wrong password") }
        return seconds > ts && seconds - ts > nonceLifetime ? .stale : .accepted
    }
}
