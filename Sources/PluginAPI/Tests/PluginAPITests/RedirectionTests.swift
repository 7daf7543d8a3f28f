import PluginAPI
import Testing

@Suite struct RedirectionTests {
    static func invite(_ headers: String) throws -> SIPMessage {
        try SIPMessage(
            parsing: "INVITE sip:2999@pbx.example SIP/2.0\r\nFrom: <sip:+4940123456@x>;tag=1\r\n"
                + "To: <sip:2345@pbx.example>\r\n\(headers)\r\n")
    }

    @Test func historyInfoWithCausesBecomesDiversionMostRecentFirst() throws {
        var m = try Self.invite(
            """
            History-Info: <sip:2345@pbx.example>;index=1\r
            History-Info: <sip:2400@pbx.example;cause=486>;index=1.1;mp=1\r
            History-Info: <sip:2999@pbx.example;cause=408>;index=1.1.1;mp=1.1\r

            """)
        m.convertHistoryInfoToDiversion()
        #expect(!m.hasHeader("History-Info"))
        #expect(
            m.values("Diversion") == [
                "<sip:2400@pbx.example>;reason=no-answer;counter=1",
                "<sip:2345@pbx.example>;reason=user-busy;counter=1",
            ])
    }

    @Test func rfc4244ReasonInTheLeftURIIsUnderstood() throws {
        var m = try Self.invite(
            """
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
        var m = try Self.invite(
            """
            Diversion: <sip:2400@pbx.example>;reason=no-answer;counter=1\r
            Diversion: <sip:2345@pbx.example>;reason=user-busy;counter=1\r

            """)
        m.convertDiversionToHistoryInfo()
        #expect(!m.hasHeader("Diversion"))
        // RFC 7044 form (cause on the new target, mp), with RFC 4244's Reason on each party that was left.
        #expect(
            m.values("History-Info") == [
                "<sip:2345@pbx.example?Reason=SIP%3Bcause%3D486>;index=1",
                "<sip:2400@pbx.example;cause=486?Reason=SIP%3Bcause%3D408>;index=1.1;mp=1",
                "<sip:2999@pbx.example;cause=408>;index=1.1.1;mp=1.1",
            ])
        m.convertHistoryInfoToDiversion()
        #expect(
            m.values("Diversion") == [
                "<sip:2400@pbx.example>;reason=no-answer;counter=1",
                "<sip:2345@pbx.example>;reason=user-busy;counter=1",
            ])
    }

    /// Avaya Aura writes the reason on the retargeted entry itself: index 1.1 carries `Reason=SIP;cause=302` and
    /// entry 1 nothing. The last entry has a Reason, which the RFCs never give it, so each entry's own Reason is
    /// read as why it was reached.
    @Test func avayaReasonOnTheRetargetedEntryBecomesDiversion() throws {
        var m = try Self.invite(
            """
            History-Info: <sip:4799@10.1.1.10>;index=1\r
            History-Info: <sip:2999@10.1.1.10?Reason=SIP%3Bcause%3D302%3Btext%3D%22Moved%22>;index=1.1\r

            """)
        m.convertHistoryInfoToDiversion()
        #expect(!m.hasHeader("History-Info"))
        #expect(m.values("Diversion") == ["<sip:4799@10.1.1.10>;reason=unconditional;counter=1"])
    }

    /// RFC 7044 tags decide: `mp` is a diversion even without a cause (reason unknown), `rc` (a new contact of the
    /// same user) and `np` are not, and `mp` names the parent even where the index would say another.
    @Test func rfc7044TagsDecideWhatIsADiversion() throws {
        var m = try Self.invite(
            """
            History-Info: <sip:2345@pbx.example>;index=1\r
            History-Info: <sip:2345@10.0.0.5>;index=1.1;rc=1\r
            History-Info: <sip:2345@10.0.0.6>;index=1.2;np=1\r
            History-Info: <sip:2400@pbx.example>;index=1.3;mp=1\r
            History-Info: <sip:2999@pbx.example;cause=480>;index=1.3.1;mp=1.3\r

            """)
        let history = HistoryInfo(m.nameAddresses("History-Info"))
        #expect(history.entries.map(\.tag) == [nil, .rc, .np, .mp, .mp])
        #expect(history.parent(of: 4) == 3)
        #expect((0..<5).map(history.isDiversion) == [false, false, false, true, true])
        m.convertHistoryInfoToDiversion()
        #expect(
            m.values("Diversion") == [
                "<sip:2400@pbx.example>;reason=deflection;counter=1",
                "<sip:2345@pbx.example>;reason=unknown;counter=1",
            ])
    }

    /// RFC 4244 form (Reason on the entry that was left, no tags) to Diversion and back to History-Info, which then
    /// reads the same again.
    @Test func rfc4244FormRoundTripsThroughDiversion() throws {
        var m = try Self.invite(
            """
            History-Info: <sip:2345@pbx.example?Reason=SIP%3Bcause%3D302>;index=1\r
            History-Info: <sip:2400@pbx.example?Reason=SIP%3Bcause%3D486>;index=1.1\r
            History-Info: <sip:2999@pbx.example>;index=1.1.1\r

            """)
        m.convertHistoryInfoToDiversion()
        let diversions = m.values("Diversion")
        #expect(
            diversions == [
                "<sip:2400@pbx.example>;reason=user-busy;counter=1",
                "<sip:2345@pbx.example>;reason=unconditional;counter=1",
            ])
        m.convertDiversionToHistoryInfo()
        #expect(m.values("History-Info").count == 3)
        m.convertHistoryInfoToDiversion()
        #expect(m.values("Diversion") == diversions)
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
