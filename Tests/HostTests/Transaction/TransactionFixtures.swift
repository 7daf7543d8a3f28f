import NIOCore
import PluginAPI

@testable import Engine
@testable import Routing
@testable import SIPCore

/// Messages for the transaction tests: small, complete enough to key and answer.
enum TransactionFixtures {
    static func invite(
        branch: String = "z9hG4bK-uac-1", callID: String = "call-1@uac.example", cseq: UInt32 = 1,
        extraHeaders: String = ""
    ) -> SIPMessage {
        request(method: "INVITE", branch: branch, callID: callID, cseq: cseq, extraHeaders: extraHeaders)
    }

    static func request(
        method: String, branch: String = "z9hG4bK-uac-1", callID: String = "call-1@uac.example", cseq: UInt32 = 1,
        uri: String = "sip:+4930987654@gw.example", toTag: String? = nil, extraHeaders: String = ""
    ) -> SIPMessage {
        let to = "<sip:+4930987654@gw.example>" + (toTag.map { ";tag=\($0)" } ?? "")
        let text = """
            \(method) \(uri) SIP/2.0\r
            Via: SIP/2.0/UDP uac.example:5060;branch=\(branch)\r
            Via: SIP/2.0/UDP pbx.example;branch=z9hG4bK-pbx-7\r
            Max-Forwards: 70\r
            Route: <sip:edge.example;lr>\r
            From: "Alice" <sip:+4930111@uac.example>;tag=from-1\r
            To: \(to)\r
            Call-ID: \(callID)\r
            CSeq: \(cseq) \(method)\r
            \(extraHeaders)Content-Length: 0\r
            \r

            """
        // The fixture text is ours; a parse failure is a bug in the test itself.
        return try! SIPMessage(parsing: text)
    }

    /// A response built the way a UAS builds one: Via, From, Call-ID and CSeq copied, To with the UAS's tag.
    static func response(_ status: Int, _ reason: String, to request: SIPMessage, toTag: String? = "uas-1")
        -> SIPMessage
    {
        var headers = request.headers.filter { ["via", "from", "call-id", "cseq"].contains($0.canonicalName) }
        if var to = request.to {
            if status > 100, let toTag, to.tag == nil { to.tag = toTag }
            headers.insert(SIPHeader("To", to.description), at: headers.firstIndex { $0.canonicalName == "call-id" }!)
        }
        return SIPMessage(startLine: .response(version: "SIP/2.0", status: status, reason: reason), headers: headers)
    }

    /// The ACK a UAC sends for a 300-699 to `invite`.
    static func ack(for invite: SIPMessage, response: SIPMessage) -> SIPMessage {
        InviteClientTransaction.makeACK(for: invite, response: response)
    }

    /// Settings with a reliable transport and otherwise the RFC defaults.
    static let reliable = TransactionSettings(reliableTransport: true)
}

extension TransactionAction {
    /// The message of a `.send`, for tests that only look at what went on the wire.
    var sentMessage: SIPMessage? {
        if case .send(let message) = self { return message }
        return nil
    }
}

extension Array where Element == TransactionAction {
    var sent: [SIPMessage] { compactMap(\.sentMessage) }
}
