import Foundation
import NIOCore
import PluginAPI
import Routing
import SIPCore

extension Shard {
    /// Sends a request to `peer` and answers its digest challenge: a 401/407 is answered with the peer's `auth`
    /// credentials by the same request with a new branch, the next CSeq and an (Proxy-)Authorization header, and
    /// only the response to that reaches `handler`. One answer per request, a second only when the server says
    /// the nonce went stale. `resent` sees the request as sent again, so the dialog can keep its CSeq and the
    /// INVITE a CANCEL must match. Without credentials, or when the answer is refused, the 401/407 itself reaches
    /// `handler`.
    package func sendRequest(
        _ request: SIPMessage, to destination: SIPDestination, peer: String,
        resent: @escaping (SIPMessage) -> Void = { _ in }, handler: @escaping (ClientEvent) -> Void
    ) {
        // The peer's invite_timeout bounds how long a silent target holds the call (Timer B).
        let timerB =
            request.method == "INVITE"
            ? site.configuration.peer(named: peer)?.inviteTimeout.map { TimeAmount.milliseconds(Int64($0 * 1000)) }
            : nil
        sendRequest(request, to: destination, timerB: timerB) { [unowned self] event in
            guard case .response(let r) = event, let status = r.statusCode, status == 401 || status == 407,
                let next = self.answerChallenge(r, to: request, peer: peer, destination: destination)
            else { return handler(event) }
            resent(next)
            self.sendRequest(next, to: destination, peer: peer, resent: resent, handler: handler)
        }
    }

    /// `request` again with the answer to `challenge`'s digest, or nil when it must not or cannot be answered.
    private func answerChallenge(
        _ response: SIPMessage, to request: SIPMessage, peer: String, destination: SIPDestination
    ) -> SIPMessage? {
        guard case .request(let method, _, _) = request.startLine, method != "ACK", method != "CANCEL",
            let cseq = request.cseq
        else { return nil }
        guard let credentials = site.configuration.peer(named: peer)?.credentials else {
            logger.warning(
                "peer challenged a request but has no 'auth' credentials",
                metadata: ["peer": "\(peer)", "method": "\(method)", "status": "\(response.statusCode ?? 0)"])
            return nil
        }
        let preferred = DigestChallenge.preferred(in: response, realm: credentials.realm)
        guard let challenge = preferred, challenge.unsupportedReason == nil else {
            let why = preferred?.unsupportedReason ?? "no digest challenge for realm \(credentials.realm ?? "any")"
            logger.warning(
                "cannot answer the peer's challenge",
                metadata: ["peer": "\(peer)", "method": "\(method)", "reason": "\(why)"])
            return nil
        }
        // Our answer was already in the request: a new challenge means the credentials were refused, unless the
        // server only says the nonce went stale.
        let header = challenge.answerHeader
        if request.hasHeader(header), !challenge.stale {
            logger.warning(
                "peer refused our credentials",
                metadata: ["peer": "\(peer)", "method": "\(method)", "realm": "\(challenge.realm)"])
            return nil
        }
        guard case .request(_, let uri, _) = request.startLine,
            let value = challenge.answer(
                method: method, uri: uri, username: credentials.username, password: credentials.password,
                cnonce: DigestChallenge.cnonce(), body: request.body)
        else { return nil }
        var next = request
        if let via = next.headers.firstIndex(where: { $0.hasName("via") }) {
            next.headers[via] = SIPHeader("Via", self.via(for: destination))
        }
        next.setHeader("CSeq", "\(cseq.number + 1) \(method)")
        next.setHeader(header, value)
        return next
    }
}
