import NIOCore
import NIOEmbedded
import PluginAPI
import Testing

@testable import Engine
@testable import Harness
@testable import SIPCore

/// The bench-callgrind path `transactions` must count a real call: every transaction it starts has to match its
/// responses and end, or the count would measure failed lookups and leftovers.
@Suite struct CallTransactionsTests {
    static let invite = """
        INVITE sip:0123456789@127.0.0.1:5060 SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-0\r
        From: <sip:bench@127.0.0.1:5070>;tag=a\r
        To: <sip:0123456789@127.0.0.1:5060>\r
        Call-ID: 1@127.0.0.1\r
        CSeq: 1 INVITE\r
        Contact: <sip:bench@127.0.0.1:5070>\r
        Max-Forwards: 70\r
        Content-Length: 0\r
        \r

        """
    static let bye = """
        BYE sip:127.0.0.1:5060 SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-5\r
        From: <sip:bench@127.0.0.1:5070>;tag=a\r
        To: <sip:0123456789@127.0.0.1:5060>;tag=b\r
        Call-ID: 1@127.0.0.1\r
        CSeq: 2 BYE\r
        Max-Forwards: 70\r
        Content-Length: 0\r
        \r

        """

    @Test func aCallsTransactionsAllMatchAndEndEveryTime() throws {
        let loop = EmbeddedEventLoop()
        let parser = SIPParser()
        let calls = try CallTransactions(
            invite: parser.parse(Array(Self.invite.utf8)), bye: parser.parse(Array(Self.bye.utf8)), loop: loop)
        // Sent by the layer: 100 Trying, INVITE, 180, 200 (once: the 2xx is the TU's to retransmit), BYE, 200 OK.
        // Counted in header fields: 100 Trying has 5, the INVITE 7 and the BYE 6 (the parser keeps Content-Length
        // out of the fields), the responses to the caller 5 each and those to the INVITE one more (Allow).
        let first = try calls.run { loop.advanceTime(by: .seconds(40)) }
        #expect(first == 5 + 7 + 6 + 6 + 6 + 5)
        // The same keys again: nothing of the first call may still be matched.
        for _ in 0..<3 { #expect(try calls.run { loop.advanceTime(by: .seconds(40)) } == first) }
    }

    @Test func aTransactionStillRunningIsReported() throws {
        let loop = EmbeddedEventLoop()
        let parser = SIPParser()
        let calls = try CallTransactions(
            invite: parser.parse(Array(Self.invite.utf8)), bye: parser.parse(Array(Self.bye.utf8)), loop: loop)
        // Timer J (32 s) still runs after one second.
        #expect(throws: CallTransactions.Failure.self) { try calls.run { loop.advanceTime(by: .seconds(1)) } }
    }
}
