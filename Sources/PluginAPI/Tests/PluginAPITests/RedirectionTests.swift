import PluginAPI
import Testing

@Suite struct RedirectionTests {
    static func invite(_ headers: String) throws -> SIPMessage {
        try SIPMessage(parsing: "INVITE sip:2999@pbx.example SIP/2.0\r\nFrom: <sip:+4940123456@x>;tag=1\r\n"
            + "To: <sip:2345@pbx.example>\r\n\(headers)\r\n")
    }

    @Test func historyInfoWithCausesBecomesDiversionMostRecentFirst() throws {
        var m = try Self.invite("""
            History-Info: <sip:2345@pbx.example>;index=1\r
            History-Info: <sip:2400@pbx.example;cause=486>;index=1.1;mp=1\r
            History-Info: <sip:2999@pbx.example;cause=408>;index=1.1.1;mp=1.1\r

            """)
        m.convertHistoryInfoToDiversion()
        #expect(!m.hasHeader("History-Info"))
        #expect(m.values("Diversion") == [
            "<sip:2400@pbx.example>;reason=no-answer;counter=1",
            "<sip:2345@pbx.example>;reason=user-busy;counter=1",
        ])
    }

    @Test func rfc4244ReasonInTheLeftURIIsUnderstood() throws {
        var m = try Self.invite("""
            History-Info: "Anna" <sip:2345@pbx.example?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1\r
            History-Info: <sip:2999@pbx.example>;index=1.1\r

            """)
        m.convertHistoryInfoToDiversion()
        #expect(m.values("Diversion") == ["\"Anna\" <sip:2345@pbx.example>;reason=user-busy;counter=1"])
    }

    @Test func historyWithoutRedirectionGivesNoDiversion() throws {
        var m = try Self.invite(
            "History-Info: <sip:2345@pbx.example>;index=1\r\nHistory-Info: <sip:2345@10.0.0.5>;index=1.1;rc=1\r\n")
        m.convertHistoryInfoToDiversion()
        #expect(!m.hasHeader("History-Info"))
        #expect(!m.hasHeader("Diversion"))
    }

    @Test func diversionBecomesAHistoryChainEndingAtTheTarget() throws {
        var m = try Self.invite("""
            Diversion: <sip:2400@pbx.example>;reason=no-answer;counter=1\r
            Diversion: <sip:2345@pbx.example>;reason=user-busy;counter=1\r

            """)
        m.convertDiversionToHistoryInfo()
        #expect(!m.hasHeader("Diversion"))
        #expect(m.values("History-Info") == [
            "<sip:2345@pbx.example>;index=1",
            "<sip:2400@pbx.example;cause=486>;index=1.1;mp=1",
            "<sip:2999@pbx.example;cause=408>;index=1.1.1;mp=1.1",
        ])
        m.convertHistoryInfoToDiversion()
        #expect(m.values("Diversion") == [
            "<sip:2400@pbx.example>;reason=no-answer;counter=1",
            "<sip:2345@pbx.example>;reason=user-busy;counter=1",
        ])
    }

    @Test func existingTargetHeaderIsKept() throws {
        var m = try Self.invite("Diversion: <sip:1@x>;reason=unconditional\r\nHistory-Info: <sip:2@x>;index=1\r\n")
        m.convertDiversionToHistoryInfo()
        #expect(m.values("History-Info") == ["<sip:2@x>;index=1"])
        #expect(!m.hasHeader("Diversion"))
    }

    @Test func causeAndReasonTables() {
        for reason in ["unconditional", "user-busy", "no-answer", "deflection", "unavailable", "unknown"] {
            #expect(SIPMessage.diversionReason(forCause: SIPMessage.redirectionCause(forReason: reason)) == reason)
        }
        #expect(SIPMessage.redirectionCause(forReason: "time-of-day") == 404)
    }
}
