import PluginAPI
import Testing

/// `AdapterPipeline` hands the SDP `fromPeer` parsed to the `toPeer` that follows (`ParsedSDP`). What is sent must
/// be exactly what parsing the body again would give, including when the body changed in between.
@Suite struct AdapterPipelineTests {
    static func message(codecs: [(Int, String)], contentType: String = "application/sdp") -> SIPMessage {
        var sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        sdp += "m=audio 4000 RTP/AVP " + codecs.map { String($0.0) }.joined(separator: " ") + "\r\n"
        for (pt, name) in codecs { sdp += "a=rtpmap:\(pt) \(name)/8000\r\n" }
        sdp += "a=sendrecv\r\n"
        var m = SIPMessage(startLine: .request(method: "INVITE", uri: "sip:0301234567@gw", version: "SIP/2.0"))
        m.headers = [SIPHeader("From", "<sip:4711@pbx>;tag=1"), SIPHeader("To", "<sip:0301234567@gw>")]
        m.headers.append(SIPHeader("Content-Type", contentType))
        m.body = Array(sdp.utf8)
        return m
    }

    static func adapter(codecs: [String]? = nil, stripAttributes: [String] = []) -> RuleAdapter {
        var rules = ProfileRules(name: "t", summary: "t")
        rules.codecs = codecs
        rules.stripAttributes = stripAttributes
        return RuleAdapter(
            rules: rules,
            peer: PeerConfiguration(
                name: "p", kind: .internal, profile: "t", host: "192.0.2.9",
                numbering: NumberingContext(areaCode: "30")))
    }

    // No G.729: the house format writes its annexb default out (`HouseFormat`), which would change the body and
    // leave no memo to test.
    static let offer: [(Int, String)] = [(9, "G722"), (0, "PCMU"), (8, "PCMA"), (101, "telephone-event")]

    @Test func theParsedOfferGivesWhatParsingAgainGives() throws {
        var house = Self.message(codecs: Self.offer)
        var parsed: ParsedSDP?
        AdapterPipeline.fromPeer(&house, adapter: Self.adapter(), parsed: &parsed)
        #expect(parsed != nil, "an adapter that leaves the SDP alone hands it on")
        for codecs in [["PCMA", "PCMU"], ["G722"], ["opus"], ["telephone-event", "PCMU"]] {
            var withMemo = house
            var without = house
            AdapterPipeline.toPeer(&withMemo, adapter: Self.adapter(codecs: codecs), parsed: parsed)
            AdapterPipeline.toPeer(&without, adapter: Self.adapter(codecs: codecs))
            #expect(withMemo == without, "\(codecs)")
            #expect(withMemo.body != house.body, "\(codecs): the policy changed the offer")
        }
    }

    @Test func aChangedBodyIsParsedAgain() throws {
        var first = Self.message(codecs: Self.offer)
        var parsed: ParsedSDP?
        AdapterPipeline.fromPeer(&first, adapter: Self.adapter(), parsed: &parsed)
        #expect(parsed != nil)
        // The memo of the first offer, with a message whose body is another offer: the other body counts.
        var other = Self.message(codecs: [(0, "PCMU"), (9, "G722"), (101, "telephone-event")])
        var expected = other
        AdapterPipeline.toPeer(&other, adapter: Self.adapter(codecs: ["G722", "PCMA"]), parsed: parsed)
        AdapterPipeline.toPeer(&expected, adapter: Self.adapter(codecs: ["G722", "PCMA"]))
        #expect(other == expected)
        #expect(String(decoding: other.body, as: UTF8.self).contains("m=audio 4000 RTP/AVP 9\r\n"))

        // The same body under a Content-Type that is not SDP: not an offer, left alone.
        var text = Self.message(codecs: Self.offer, contentType: "text/plain")
        let before = text.body
        AdapterPipeline.toPeer(&text, adapter: Self.adapter(codecs: ["PCMA"]), parsed: parsed)
        #expect(text.body == before)
    }

    @Test func anOfferTheInboundAdapterChangedIsNotHandedOn() throws {
        var house = Self.message(codecs: Self.offer)
        var parsed: ParsedSDP?
        AdapterPipeline.fromPeer(&house, adapter: Self.adapter(stripAttributes: ["sendrecv"]), parsed: &parsed)
        #expect(parsed == nil)
        #expect(!String(decoding: house.body, as: UTF8.self).contains("a=sendrecv"))
    }
}
