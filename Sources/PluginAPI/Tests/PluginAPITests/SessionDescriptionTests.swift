import PluginAPI
import Testing

/// Fixtures are written with LF for readability; `crlf` turns them into what travels on the wire.
private func crlf(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if scalar == "\n" { out += "\r\n" } else { out.unicodeScalars.append(scalar) }
    }
    return out
}

private func parse(_ lfText: String) throws -> SessionDescription {
    try #require(SessionDescription(crlf(lfText)))
}

/// Cisco Unified CM offering G.729 first, with the usual 0-15 telephone-event and a vendor attribute.
private let cucmOffer = """
    v=0
    o=CiscoSystemsCCM-SIP 162308 1 IN IP4 10.20.1.10
    s=SIP Call
    c=IN IP4 10.20.5.33
    b=TIAS:64000
    b=AS:64
    t=0 0
    m=audio 27942 RTP/AVP 18 0 8 101
    b=TIAS:64000
    a=ptime:20
    a=rtpmap:18 G729/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
    a=X-sqn:0
    a=sendrecv

    """

/// Cisco CUBE: G.729 with an explicit annexb, CN on 19, and its X-cap capability lines.
private let cubeOffer = """
    v=0
    o=CiscoSystemsSIP-GW-UserAgent 4411 1882 IN IP4 10.1.1.1
    s=SIP Call
    c=IN IP4 10.1.1.1
    t=0 0
    m=audio 16444 RTP/AVP 18 0 8 101 19
    c=IN IP4 10.1.1.1
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=yes
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
    a=rtpmap:19 CN/8000
    a=ptime:20
    a=x-cap: 1 audio RTP/AVP 100
    a=X-cpar: a=rtpmap:100 X-NSE/8000

    """

/// Asterisk (chan_pjsip) offer.
private let asteriskOffer = """
    v=0
    o=- 1709285342 1709285342 IN IP4 192.0.2.20
    s=Asterisk
    c=IN IP4 192.0.2.20
    t=0 0
    m=audio 14226 RTP/AVP 0 8 3 9 101
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:3 GSM/8000
    a=rtpmap:9 G722/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-16
    a=ptime:20
    a=maxptime:150
    a=sendrecv

    """

/// A WebRTC-style offer: opus with RED, two telephone-events, video with rtcp-fb and rtx.
private let browserOffer = """
    v=0
    o=- 4611731400430051336 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1
    a=msid-semantic: WMS
    m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 110 126
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=mid:0
    a=sendrecv
    a=rtcp-mux
    a=rtpmap:111 opus/48000/2
    a=rtcp-fb:111 transport-cc
    a=fmtp:111 minptime=10;useinbandfec=1
    a=rtpmap:63 red/48000/2
    a=fmtp:63 111/111
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:110 telephone-event/48000
    a=rtpmap:126 telephone-event/8000
    m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99
    c=IN IP4 0.0.0.0
    a=mid:1
    a=sendrecv
    a=rtcp-fb:* ccm fir
    a=rtpmap:96 VP8/90000
    a=rtcp-fb:96 goog-remb
    a=rtcp-fb:96 nack
    a=rtcp-fb:96 nack pli
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96
    a=rtpmap:98 H264/90000
    a=rtcp-fb:98 nack
    a=fmtp:98 level-asymmetry-allowed=1; packetization-mode=1; profile-level-id=42e01f
    a=rtpmap:99 rtx/90000
    a=fmtp:99 apt=98

    """

/// An old-style gateway that relies on static payload types and sends no rtpmap for them.
private let staticOffer = """
    v=0
    o=gw 1 1 IN IP4 198.51.100.7
    s=-
    c=IN IP4 198.51.100.7
    t=0 0
    m=audio 5004 RTP/AVP 0 18 4 3 9 13 96 101
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15

    """

/// A profile's codec policy (`codecs:`) keeps and orders in one pass, with selectors compiled when the adapter is
/// made. It must leave every offer exactly as `keepCodecs` followed by `orderCodecs` with the same list does, for
/// every list of up to three selectors from the ones below (in every order), including lists that remove every
/// codec of a section.
@Suite struct CodecPolicyTests {
    static let duplicateOffer = """
        v=0
        o=- 1 1 IN IP4 192.0.2.1
        s=-
        c=IN IP4 192.0.2.1
        t=0 0
        m=audio 4000 RTP/AVP 0 0 101 96
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=rtpmap:96 opus/48000/2

        """

    @Test(arguments: [cucmOffer, cubeOffer, asteriskOffer, browserOffer, staticOffer, duplicateOffer])
    func oneEqualsKeepThenOrder(_ fixture: String) throws {
        let offer = try parse(fixture)
        let names = [
            "PCMU", "pcma", "G729", "telephone-event", "opus/48000/2", "8", "101", "red", "rtx", "H264", "VP8",
        ]
        var lists: [[String]] = [[]]
        for a in names {
            lists.append([a])
            for b in names where b != a {
                lists.append([a, b])
                for c in names where c != a && c != b && (a.count + b.count + c.count) % 3 == 0 {
                    lists.append([a, b, c])
                }
            }
        }
        var changed = 0
        for list in lists {
            var rules = ProfileRules(name: "t", summary: "t")
            rules.codecs = list
            let adapter = RuleAdapter(
                rules: rules,
                peer: PeerConfiguration(
                    name: "p", kind: .internal, profile: "t", host: "192.0.2.9",
                    numbering: NumberingContext(areaCode: "30")))
            var one = offer
            adapter.sdpToPeer(
                &one, in: SIPMessage(startLine: .request(method: "INVITE", uri: "sip:a@b", version: "SIP/2.0")))
            var two = offer
            two.keepCodecs(list)
            two.orderCodecs(list)
            #expect(one == two, "\(list)")
            #expect(one.description == two.description, "\(list)")
            if one != offer { changed += 1 }
        }
        #expect(changed > lists.count / 2, "most lists change the offer")
    }
}

@Suite struct SessionDescriptionParsingTests {
    @Test(arguments: [cucmOffer, cubeOffer, asteriskOffer, browserOffer, staticOffer])
    func unchangedDescriptionRoundTripsByteForByte(_ fixture: String) throws {
        let wire = crlf(fixture)
        let sdp = try #require(SessionDescription(wire))
        #expect(sdp.description == wire)
        #expect(Array(sdp.description.utf8) == Array(wire.utf8))
    }

    @Test func bareLineFeedsAreAcceptedAndWrittenAsCRLF() throws {
        let sdp = try #require(SessionDescription(asteriskOffer))
        #expect(sdp.description == crlf(asteriskOffer))
        #expect(try sdp == parse(asteriskOffer))
    }

    @Test func missingFinalLineEndAndBlankLinesAreNormalised() throws {
        let text = "v=0\r\n\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0"
        let sdp = try #require(SessionDescription(text))
        #expect(sdp.description == "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
    }

    @Test(arguments: [
        "",
        "\r\n",
        "hello world",
        "INVITE sip:bob@example.com SIP/2.0\r\n",
        "o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n",
        "<?xml version=\"1.0\"?>\r\n<v=0/>\r\n",
    ])
    func textThatIsNotSDPIsRejected(_ text: String) {
        #expect(SessionDescription(text) == nil)
    }

    @Test(arguments: ["m=audio", "m=audio RTP/AVP 0", "m=audio x RTP/AVP 0", "m=audio 4000/x RTP/AVP 0"])
    func malformedMediaLineRejectsTheBody(_ mediaLine: String) {
        #expect(SessionDescription("v=0\r\ns=-\r\n\(mediaLine)\r\na=sendrecv\r\n") == nil)
    }

    @Test func linesAreSplitIntoSessionAndMediaSections() throws {
        let sdp = try parse(browserOffer)
        #expect(
            sdp.sessionLines == [
                "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
                "a=msid-semantic: WMS",
            ])
        try #require(sdp.media.count == 2)
        let audio = sdp.media[0]
        #expect(audio.type == "audio")
        #expect(audio.port == 9)
        #expect(audio.portCount == nil)
        #expect(audio.proto == "UDP/TLS/RTP/SAVPF")
        #expect(audio.formats == ["111", "63", "9", "0", "8", "110", "126"])
        #expect(audio.lines.first == "c=IN IP4 0.0.0.0")
        #expect(audio.lines.last == "a=rtpmap:126 telephone-event/8000")
        #expect(audio.lines.count == 15)
        #expect(sdp.media[1].type == "video")
        #expect(sdp.media[1].formats == ["96", "97", "98", "99"])
        #expect(sdp.attributeValues("group") == ["BUNDLE 0 1"])
        #expect(audio.attributeValues("rtcp-mux") == [""])
        #expect(audio.attributeValues("mid") == ["0"])
    }

    @Test func portCountAndOddSpacingSurviveUntilTheMediaLineChanges() throws {
        let text = "v=0\r\ns=-\r\nm=audio  49170/2 RTP/AVP 0 8 \r\na=sendrecv\r\n"
        var sdp = try #require(SessionDescription(text))
        #expect(sdp.media[0].port == 49170)
        #expect(sdp.media[0].portCount == 2)
        #expect(sdp.media[0].formats == ["0", "8"])
        #expect(sdp.description == text)

        sdp.media[0].direction = .sendonly
        #expect(sdp.description == "v=0\r\ns=-\r\nm=audio  49170/2 RTP/AVP 0 8 \r\na=sendonly\r\n")

        sdp.removeCodecs(["PCMA"])
        #expect(sdp.description == "v=0\r\ns=-\r\nm=audio 49170/2 RTP/AVP 0\r\na=sendonly\r\n")
    }

    @Test func equalityIgnoresHowTheMediaLineWasSpaced() throws {
        let spaced = try #require(SessionDescription("v=0\r\nm=audio  4000 RTP/AVP 0\r\n"))
        let plain = try #require(SessionDescription("v=0\r\nm=audio 4000 RTP/AVP 0\r\n"))
        #expect(spaced == plain)
        let built = SessionDescription(
            sessionLines: ["v=0"],
            media: [MediaDescription(type: "audio", port: 4000, proto: "RTP/AVP", formats: ["0"])])
        #expect(built == plain)
        #expect(built.description == "v=0\r\nm=audio 4000 RTP/AVP 0\r\n")
    }

    @Test func nonASCIITextIsKeptIntact() throws {
        let text = "v=0\r\ns=Café Zürich ☎︎\r\ni=\u{1F4DE}\r\nt=0 0\r\n"
        let sdp = try #require(SessionDescription(text))
        #expect(sdp.sessionLines == ["v=0", "s=Café Zürich ☎︎", "i=\u{1F4DE}", "t=0 0"])
        #expect(sdp.description == text)
    }
}

@Suite struct SessionDescriptionCodecListTests {
    @Test func ciscoOfferListsItsCodecsInOrder() throws {
        let sdp = try parse(cucmOffer)
        #expect(
            sdp.media[0].codecs == [
                Codec(payloadType: 18, name: "G729", clockRate: 8000, channels: 1),
                Codec(payloadType: 0, name: "PCMU", clockRate: 8000, channels: 1),
                Codec(payloadType: 8, name: "PCMA", clockRate: 8000, channels: 1),
                Codec(
                    payloadType: 101, name: "telephone-event", clockRate: 8000, channels: 1, formatParameters: "0-15"),
            ])
    }

    @Test func staticPayloadTypesWithoutRtpmapAreNamedFromRFC3551() throws {
        let sdp = try parse(staticOffer)
        let codecs = sdp.media[0].codecs
        #expect(codecs.map(\.payloadType) == [0, 18, 4, 3, 9, 13, 96, 101])
        #expect(codecs.map(\.name) == ["PCMU", "G729", "G723", "GSM", "G722", "CN", nil, "telephone-event"])
        #expect(codecs.map(\.clockRate) == [8000, 8000, 8000, 8000, 8000, 8000, nil, 8000])
        #expect(codecs[6] == Codec(payloadType: 96, name: nil, clockRate: nil))
        #expect(Codec.staticPayloadTypes[10] == Codec(payloadType: 10, name: "L16", clockRate: 44100, channels: 2))
        #expect(Codec.staticPayloadTypes[34]?.name == "H263")
        #expect(Codec.staticPayloadTypes[96] == nil)
    }

    @Test func channelsAndParametersComeFromTheRtpmapAndFmtp() throws {
        let sdp = try parse(browserOffer)
        let audio = sdp.media[0].codecs
        #expect(
            audio[0]
                == Codec(
                    payloadType: 111, name: "opus", clockRate: 48000, channels: 2,
                    formatParameters: "minptime=10;useinbandfec=1"))
        #expect(audio[1].formatParameters == "111/111")
        let video = sdp.media[1].codecs
        #expect(video[0] == Codec(payloadType: 96, name: "VP8", clockRate: 90000, channels: nil))
        #expect(video[1].formatParameters == "apt=96")
    }

    @Test func nonRTPFormatsAreNotCodecs() throws {
        let sdp = try #require(SessionDescription("v=0\r\nm=image 4002 udptl t38\r\na=T38FaxVersion:0\r\n"))
        #expect(sdp.media[0].codecs.isEmpty)
        #expect(sdp.media[0].formats(matching: "T38") == ["t38"])
    }

    @Test func selectorsMatchByNameNumberRateAndChannels() throws {
        let audio = try parse(browserOffer).media[0]
        #expect(audio.formats(matching: "telephone-event") == ["110", "126"])
        #expect(audio.formats(matching: "TELEPHONE-EVENT/8000") == ["126"])
        #expect(audio.formats(matching: "opus/48000/2") == ["111"])
        #expect(audio.formats(matching: "opus/48000/1").isEmpty)
        #expect(audio.formats(matching: "pcmu") == ["0"])
        #expect(audio.formats(matching: " 8 ") == ["8"])
        #expect(audio.formats(matching: "G729").isEmpty)
        #expect(Codec(payloadType: 0, name: "PCMU", clockRate: 8000, channels: 1).matches("PCMU/8000/1"))
        #expect(!Codec(payloadType: 0, name: "PCMU", clockRate: 8000, channels: 1).matches("PCM"))
    }
}

@Suite struct SessionDescriptionCodecEditingTests {
    @Test func removingACodecDropsItsNumberRtpmapAndFmtp() throws {
        var sdp = try parse(cubeOffer)
        sdp.removeCodecs(["G729", "cn"])
        #expect(
            sdp.description
                == crlf(
                    """
                    v=0
                    o=CiscoSystemsSIP-GW-UserAgent 4411 1882 IN IP4 10.1.1.1
                    s=SIP Call
                    c=IN IP4 10.1.1.1
                    t=0 0
                    m=audio 16444 RTP/AVP 0 8 101
                    c=IN IP4 10.1.1.1
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-15
                    a=ptime:20
                    a=x-cap: 1 audio RTP/AVP 100
                    a=X-cpar: a=rtpmap:100 X-NSE/8000

                    """))
    }

    @Test func removingByPayloadNumberWorksForStaticTypesWithoutRtpmap() throws {
        var sdp = try parse(staticOffer)
        sdp.removeCodecs(["18", "4", "96"])
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 5004 RTP/AVP 0 3 9 13 101
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-15

                    """))
    }

    @Test func removingACodecDropsItsRtcpFeedbackAndDependentRtxAndRed() throws {
        var sdp = try parse(browserOffer)
        sdp.removeCodecs(["opus", "VP8"])
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 9 UDP/TLS/RTP/SAVPF 9 0 8 110 126
                    c=IN IP4 0.0.0.0
                    a=rtcp:9 IN IP4 0.0.0.0
                    a=mid:0
                    a=sendrecv
                    a=rtcp-mux
                    a=rtpmap:9 G722/8000
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:110 telephone-event/48000
                    a=rtpmap:126 telephone-event/8000

                    """))
        #expect(
            sdp.media[1].description
                == crlf(
                    """
                    m=video 9 UDP/TLS/RTP/SAVPF 98 99
                    c=IN IP4 0.0.0.0
                    a=mid:1
                    a=sendrecv
                    a=rtcp-fb:* ccm fir
                    a=rtpmap:98 H264/90000
                    a=rtcp-fb:98 nack
                    a=fmtp:98 level-asymmetry-allowed=1; packetization-mode=1; profile-level-id=42e01f
                    a=rtpmap:99 rtx/90000
                    a=fmtp:99 apt=98

                    """))
        #expect(try sdp.sessionLines == parse(browserOffer).sessionLines)
    }

    @Test func keepingCodecsRemovesAllOthers() throws {
        var sdp = try parse(cucmOffer)
        sdp.keepCodecs(["pcma", "telephone-event"])
        #expect(
            sdp.description
                == crlf(
                    """
                    v=0
                    o=CiscoSystemsCCM-SIP 162308 1 IN IP4 10.20.1.10
                    s=SIP Call
                    c=IN IP4 10.20.5.33
                    b=TIAS:64000
                    b=AS:64
                    t=0 0
                    m=audio 27942 RTP/AVP 8 101
                    b=TIAS:64000
                    a=ptime:20
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-15
                    a=X-sqn:0
                    a=sendrecv

                    """))
    }

    @Test func keepingCodecsKeepsTheMediaLineOrderNotTheSelectorOrder() throws {
        var sdp = try parse(browserOffer)
        sdp.keepCodecs(["telephone-event/8000", "PCMA", "0"], mediaType: "audio")
        #expect(sdp.media[0].formats == ["0", "8", "126"])
        #expect(
            sdp.media[0].lines.filter { $0.hasPrefix("a=rtpmap") } == [
                "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:126 telephone-event/8000",
            ])
        #expect(try sdp.media[1] == parse(browserOffer).media[1])
    }

    @Test func removingEveryCodecRejectsTheStreamAndKeepsTheFirstFormat() throws {
        var sdp = try parse(asteriskOffer)
        sdp.keepCodecs(["G729"])
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 0 RTP/AVP 0
                    a=rtpmap:0 PCMU/8000
                    a=ptime:20
                    a=maxptime:150
                    a=sendrecv

                    """))
    }

    @Test func removingEveryAudioCodecButTelephoneEventRejectsTheStream() throws {
        var sdp = try parse(cucmOffer)
        sdp.removeCodecs(["G729", "PCMU", "PCMA"])
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 0 RTP/AVP 101
                    b=TIAS:64000
                    a=ptime:20
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-15
                    a=X-sqn:0
                    a=sendrecv

                    """))
    }

    @Test func keepingOnlyAudioCodecsRejectsVideoButKeepsItsMediaLine() throws {
        var sdp = try parse(browserOffer)
        sdp.keepCodecs(["PCMU", "telephone-event/8000"])
        #expect(sdp.media.count == 2)
        #expect(sdp.media[0].port == 9)
        #expect(sdp.media[0].formats == ["0", "126"])
        #expect(sdp.media[1].mediaLine == "m=video 0 UDP/TLS/RTP/SAVPF 96")
        #expect(sdp.media[1].lines.filter { $0.contains(":97") || $0.contains(":98") || $0.contains(":99") }.isEmpty)
        #expect(sdp.media[1].lines.contains("a=rtpmap:96 VP8/90000"))
    }

    @Test func unknownSelectorsChangeNothing() throws {
        var sdp = try parse(cucmOffer)
        sdp.removeCodecs(["AMR-WB", "77", ""])
        #expect(sdp.description == crlf(cucmOffer))
    }

    @Test func mediaTypeLimitsTheOperation() throws {
        var sdp = try parse(browserOffer)
        sdp.removeCodecs(["rtx"], mediaType: "audio")
        #expect(try sdp == parse(browserOffer))
        sdp.removeCodecs(["rtx"], mediaType: "VIDEO")
        #expect(sdp.media[1].formats == ["96", "98"])
        #expect(!sdp.media[1].lines.contains { $0.hasPrefix("a=fmtp:97") || $0.hasPrefix("a=fmtp:99") })
    }

    @Test func codecOperationsLeaveNonRTPSectionsAloneByDefault() throws {
        var sdp = try #require(
            SessionDescription(
                "v=0\r\ns=-\r\nm=audio 4000 RTP/AVP 0 8\r\nm=image 4002 udptl t38\r\na=T38FaxVersion:0\r\n"))
        sdp.keepCodecs(["PCMA"])
        #expect(
            sdp.description
                == "v=0\r\ns=-\r\nm=audio 4000 RTP/AVP 8\r\nm=image 4002 udptl t38\r\na=T38FaxVersion:0\r\n")
    }

    @Test func orderingPutsPreferredCodecsFirstAndKeepsTheRestInOrder() throws {
        var sdp = try parse(asteriskOffer)
        sdp.orderCodecs(["PCMA", "PCMU"])
        #expect(sdp.media[0].mediaLine == "m=audio 14226 RTP/AVP 8 0 3 9 101")
        #expect(try sdp.media[0].lines == parse(asteriskOffer).media[0].lines)

        var browser = try parse(browserOffer)
        browser.orderCodecs(["telephone-event", "G722", "H264", "nothing"])
        #expect(browser.media[0].formats == ["110", "126", "9", "111", "63", "0", "8"])
        #expect(browser.media[1].formats == ["98", "96", "97", "99"])
    }

    @Test func orderingByPayloadNumber() throws {
        var sdp = try parse(cucmOffer)
        sdp.orderCodecs(["8", "0", "8"])
        #expect(sdp.media[0].mediaLine == "m=audio 27942 RTP/AVP 8 0 18 101")
    }
}

@Suite struct SessionDescriptionTelephoneEventTests {
    @Test func remapRenumbersMediaLineRtpmapAndFmtp() throws {
        var sdp = try parse(cucmOffer)
        let remapped = sdp.remapTelephoneEvent(to: 96)
        #expect(remapped)
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 27942 RTP/AVP 18 0 8 96
                    b=TIAS:64000
                    a=ptime:20
                    a=rtpmap:18 G729/8000
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:96 telephone-event/8000
                    a=fmtp:96 0-15
                    a=X-sqn:0
                    a=sendrecv

                    """))
    }

    @Test func remapToTheCurrentNumberChangesNothing() throws {
        var sdp = try parse(cucmOffer)
        let remapped = sdp.remapTelephoneEvent(to: 101)
        #expect(remapped)
        #expect(sdp.description == crlf(cucmOffer))
    }

    @Test func remapOntoADynamicCodecSwapsTheTwoNumbers() throws {
        var sdp = try parse(browserOffer)
        let remapped = sdp.remapTelephoneEvent(to: 111, mediaType: "audio")
        #expect(remapped)
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 9 UDP/TLS/RTP/SAVPF 110 63 9 0 8 111 126
                    c=IN IP4 0.0.0.0
                    a=rtcp:9 IN IP4 0.0.0.0
                    a=mid:0
                    a=sendrecv
                    a=rtcp-mux
                    a=rtpmap:110 opus/48000/2
                    a=rtcp-fb:110 transport-cc
                    a=fmtp:110 minptime=10;useinbandfec=1
                    a=rtpmap:63 red/48000/2
                    a=fmtp:63 110/110
                    a=rtpmap:9 G722/8000
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:111 telephone-event/48000
                    a=rtpmap:126 telephone-event/8000

                    """))
    }

    @Test func swappingARetransmittedCodecRewritesTheRtxApt() throws {
        var sdp = try #require(
            SessionDescription(
                """
                v=0\r
                m=video 5006 RTP/AVPF 96 97 101\r
                a=rtpmap:96 H264/90000\r
                a=rtpmap:97 rtx/90000\r
                a=fmtp:97 apt=96\r
                a=rtpmap:101 telephone-event/8000\r

                """))
        let remapped = sdp.remapTelephoneEvent(to: 96, mediaType: "video")
        #expect(remapped)
        #expect(
            sdp.media[0].description == """
                m=video 5006 RTP/AVPF 101 97 96\r
                a=rtpmap:101 H264/90000\r
                a=rtpmap:97 rtx/90000\r
                a=fmtp:97 apt=101\r
                a=rtpmap:96 telephone-event/8000\r

                """)
    }

    @Test func remapOntoAStaticTypeWithoutRtpmapIsRefused() throws {
        var sdp = try parse(staticOffer)
        let remapped = sdp.remapTelephoneEvent(to: 18)
        #expect(!remapped)
        #expect(sdp.description == crlf(staticOffer))
    }

    @Test func remapOutsideThePayloadTypeRangeIsRefused() throws {
        var sdp = try parse(cucmOffer)
        let above = sdp.remapTelephoneEvent(to: 128)
        let below = sdp.remapTelephoneEvent(to: -1)
        #expect(!above)
        #expect(!below)
        #expect(sdp.description == crlf(cucmOffer))
    }

    @Test func remapWithoutTelephoneEventSucceedsAndChangesNothing() throws {
        var sdp = try #require(SessionDescription("v=0\r\nm=audio 4000 RTP/AVP 0\r\n"))
        let remapped = sdp.remapTelephoneEvent(to: 101)
        #expect(remapped)
        #expect(sdp.description == "v=0\r\nm=audio 4000 RTP/AVP 0\r\n")
    }

    @Test func remapDropsOrphanLinesOfTheTargetNumber() throws {
        var sdp = try #require(
            SessionDescription(
                """
                v=0\r
                m=audio 4000 RTP/AVP 0 101\r
                a=rtpmap:96 iLBC/8000\r
                a=fmtp:96 mode=30\r
                a=rtpmap:101 telephone-event/8000\r

                """))
        let remapped = sdp.remapTelephoneEvent(to: 96)
        #expect(remapped)
        #expect(sdp.description == "v=0\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n")
    }

    @Test func remapMovesOnlyTheFirstTelephoneEventAndSwapsWithTheSecond() throws {
        var sdp = try parse(browserOffer)
        let remapped = sdp.remapTelephoneEvent(to: 126)
        #expect(remapped)
        #expect(sdp.media[0].formats == ["111", "63", "9", "0", "8", "126", "110"])
        #expect(
            sdp.media[0].lines.suffix(2) == [
                "a=rtpmap:126 telephone-event/48000", "a=rtpmap:110 telephone-event/8000",
            ])
    }
}

@Suite struct SessionDescriptionAttributeTests {
    @Test func packetTimeReplacesTheExistingLineInPlace() throws {
        var sdp = try parse(asteriskOffer)
        #expect(sdp.media[0].packetTime == 20)
        #expect(sdp.media[0].maxPacketTime == 150)
        sdp.setPacketTime(30)
        sdp.setMaxPacketTime(60)
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 14226 RTP/AVP 0 8 3 9 101
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:3 GSM/8000
                    a=rtpmap:9 G722/8000
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-16
                    a=ptime:30
                    a=maxptime:60
                    a=sendrecv

                    """))
    }

    @Test func packetTimeIsAppendedWhenMissingAndRemovedWithNil() throws {
        var sdp = try parse(cucmOffer)
        #expect(sdp.media[0].maxPacketTime == nil)
        sdp.setMaxPacketTime(40)
        sdp.setPacketTime(nil)
        #expect(
            sdp.media[0].lines == [
                "b=TIAS:64000", "a=rtpmap:18 G729/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
                "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=X-sqn:0", "a=sendrecv", "a=maxptime:40",
            ])
        #expect(sdp.media[0].packetTime == nil)
        #expect(sdp.media[0].maxPacketTime == 40)
    }

    @Test func packetTimeCollapsesDuplicatesAndSkipsVideoByDefault() throws {
        var sdp = try #require(
            SessionDescription(
                "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:20\r\na=ptime:30\r\nm=video 4002 RTP/AVP 31\r\n"))
        sdp.setPacketTime(10)
        #expect(sdp.description == "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:10\r\nm=video 4002 RTP/AVP 31\r\n")
    }

    @Test func formatParameterIsAddedAfterTheRtpmapWhenThereIsNoFmtp() throws {
        var sdp = try parse(cucmOffer)
        sdp.setFormatParameter(codec: "G729", name: "annexb", value: "no")
        #expect(
            sdp.media[0].description
                == crlf(
                    """
                    m=audio 27942 RTP/AVP 18 0 8 101
                    b=TIAS:64000
                    a=ptime:20
                    a=rtpmap:18 G729/8000
                    a=fmtp:18 annexb=no
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-15
                    a=X-sqn:0
                    a=sendrecv

                    """))
        #expect(sdp.media[0].formatParameter(codec: "18", name: "AnnexB") == "no")
    }

    @Test func formatParameterReplacesAnExistingValue() throws {
        var sdp = try parse(cubeOffer)
        #expect(sdp.media[0].formatParameter(codec: "G729", name: "annexb") == "yes")
        sdp.setFormatParameter(codec: "g729", name: "ANNEXB", value: "no")
        #expect(sdp.media[0].lines[2] == "a=fmtp:18 annexb=no")
        #expect(try sdp.media[0].lines.count == parse(cubeOffer).media[0].lines.count)
    }

    @Test func formatParameterForStaticCodecWithoutRtpmapGoesAfterTheLastDescription() throws {
        var sdp = try parse(staticOffer)
        sdp.setFormatParameter(codec: "G729", name: "annexb", value: "no")
        #expect(sdp.media[0].lines == ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=fmtp:18 annexb=no"])
        var bare = try #require(SessionDescription("v=0\r\nm=audio 4000 RTP/AVP 18\r\n"))
        bare.setFormatParameter(codec: "G729", name: "annexb", value: "no")
        #expect(bare.description == "v=0\r\nm=audio 4000 RTP/AVP 18\r\na=fmtp:18 annexb=no\r\n")
    }

    @Test func formatParameterIsAppendedInTheLinesOwnSeparatorStyle() throws {
        var sdp = try parse(browserOffer)
        sdp.setFormatParameter(codec: "opus", name: "stereo", value: "1")
        sdp.setFormatParameter(codec: "H264", name: "max-fs", value: "3600")
        sdp.setFormatParameter(codec: "H264", name: "packetization-mode", value: "0")
        #expect(sdp.media[0].lines[7] == "a=fmtp:111 minptime=10;useinbandfec=1;stereo=1")
        #expect(
            sdp.media[1].lines[12]
                == "a=fmtp:98 level-asymmetry-allowed=1; packetization-mode=0; profile-level-id=42e01f; max-fs=3600")
    }

    @Test func formatParameterOnTelephoneEventKeepsTheEventList() throws {
        var sdp = try parse(cucmOffer)
        sdp.setFormatParameter(codec: "telephone-event", name: "x", value: "1")
        #expect(sdp.media[0].lines[6] == "a=fmtp:101 0-15;x=1")
        #expect(sdp.media[0].formatParameter(codec: "telephone-event", name: "0-15") == "")
    }

    @Test func removingTheLastFormatParameterRemovesTheFmtpLine() throws {
        var sdp = try parse(cubeOffer)
        sdp.setFormatParameter(codec: "G729", name: "annexb", value: nil)
        #expect(!sdp.media[0].lines.contains { $0.hasPrefix("a=fmtp:18") })
        #expect(sdp.media[0].lines[1] == "a=rtpmap:18 G729/8000")
        #expect(sdp.media[0].lines[2] == "a=rtpmap:0 PCMU/8000")

        var browser = try parse(browserOffer)
        browser.setFormatParameter(codec: "H264", name: "level-asymmetry-allowed", value: nil)
        #expect(browser.media[1].lines[12] == "a=fmtp:98 packetization-mode=1; profile-level-id=42e01f")
        browser.setFormatParameter(codec: "H264", name: "absent", value: nil)
        #expect(browser.media[1].lines[12] == "a=fmtp:98 packetization-mode=1; profile-level-id=42e01f")
    }

    @Test func formatParameterForAnAbsentCodecChangesNothing() throws {
        var sdp = try parse(asteriskOffer)
        sdp.setFormatParameter(codec: "G729", name: "annexb", value: "no")
        #expect(sdp.description == crlf(asteriskOffer))
        #expect(sdp.media[0].formatParameter(codec: "G729", name: "annexb") == nil)
    }

    @Test func vendorAttributesAreRemovedByPrefixAtEveryLevel() throws {
        let text = crlf(cubeOffer).replacingFirst("t=0 0\r\n", "t=0 0\r\na=X-session:1\r\n")
        var sdp = try #require(SessionDescription(text))
        #expect(sdp.sessionLines.last == "a=X-session:1")
        sdp.removeAttributes(prefix: "X-")
        #expect(
            sdp.description
                == crlf(
                    """
                    v=0
                    o=CiscoSystemsSIP-GW-UserAgent 4411 1882 IN IP4 10.1.1.1
                    s=SIP Call
                    c=IN IP4 10.1.1.1
                    t=0 0
                    m=audio 16444 RTP/AVP 18 0 8 101 19
                    c=IN IP4 10.1.1.1
                    a=rtpmap:18 G729/8000
                    a=fmtp:18 annexb=yes
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-15
                    a=rtpmap:19 CN/8000
                    a=ptime:20

                    """))
    }

    @Test func attributePrefixRemovalCanTargetOneMediaType() throws {
        var sdp = try parse(browserOffer)
        sdp.removeAttributes(prefix: "rtcp-fb", mediaType: "video")
        #expect(sdp.media[1].lines.filter { $0.hasPrefix("a=rtcp-fb") }.isEmpty)
        #expect(sdp.media[0].lines.contains("a=rtcp-fb:111 transport-cc"))
        sdp.removeAttributes(prefix: "rtcp")
        #expect(sdp.media[0].lines.filter { $0.hasPrefix("a=rtcp") }.isEmpty)
        sdp.removeAttributes(prefix: "msid-semantic")
        #expect(sdp.sessionLines.last == "a=group:BUNDLE 0 1")
    }

    @Test func prefixMatchesOnlyAttributeLines() throws {
        var sdp = try #require(SessionDescription("v=0\r\ns=a=ptime\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:20\r\n"))
        sdp.removeAttributes(prefix: "ptime")
        #expect(sdp.description == "v=0\r\ns=a=ptime\r\nm=audio 4000 RTP/AVP 0\r\n")
    }
}

@Suite struct SessionDescriptionMediaTests {
    @Test func removingMediaByType() throws {
        var sdp = try parse(browserOffer)
        sdp.removeMedia(type: "Video")
        #expect(sdp.media.map(\.type) == ["audio"])
        #expect(sdp.description.hasSuffix("a=rtpmap:126 telephone-event/8000\r\n"))
        #expect(!sdp.description.contains("m=video"))
    }

    @Test func rejectingMediaKeepsTheLineWithPortZero() throws {
        var sdp = try parse(browserOffer)
        sdp.rejectMedia(type: "video")
        #expect(sdp.media[1].mediaLine == "m=video 0 UDP/TLS/RTP/SAVPF 96 97 98 99")
        #expect(try sdp.media[1].lines == parse(browserOffer).media[1].lines)
        #expect(sdp.media[0].port == 9)
    }

    @Test func directionIsReadAndReplacedInPlace() throws {
        var sdp = try parse(cucmOffer)
        #expect(sdp.media[0].direction == .sendrecv)
        #expect(sdp.direction == nil)
        sdp.setDirection(.sendonly)
        #expect(sdp.media[0].lines.last == "a=sendonly")
        #expect(sdp.media[0].lines.count == 9)
        #expect(sdp.effectiveDirection(of: sdp.media[0]) == .sendonly)
        sdp.setDirection(nil)
        #expect(sdp.media[0].lines.last == "a=X-sqn:0")
        #expect(sdp.effectiveDirection(of: sdp.media[0]) == .sendrecv)
    }

    @Test func directionIsAddedWhenMissingAndDuplicatesCollapse() throws {
        var sdp = try #require(SessionDescription("v=0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\na=inactive\r\n"))
        #expect(sdp.media[0].direction == .recvonly)
        sdp.media[0].direction = .inactive
        #expect(sdp.description == "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=inactive\r\n")
        var plain = try #require(SessionDescription("v=0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:20\r\n"))
        plain.media[0].direction = .sendrecv
        #expect(plain.description == "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:20\r\na=sendrecv\r\n")
    }

    @Test func sessionLevelDirectionAppliesUnlessTheMediaOverrides() throws {
        var sdp = try #require(
            SessionDescription(
                """
                v=0\r
                o=- 2 3 IN IP4 192.0.2.5\r
                s=-\r
                c=IN IP4 0.0.0.0\r
                t=0 0\r
                a=sendonly\r
                m=audio 4000 RTP/AVP 0\r
                m=video 4002 RTP/AVP 31\r
                c=IN IP4 192.0.2.5\r
                a=inactive\r

                """))
        #expect(sdp.direction == .sendonly)
        #expect(sdp.effectiveDirection(of: sdp.media[0]) == .sendonly)
        #expect(sdp.effectiveDirection(of: sdp.media[1]) == .inactive)
        #expect(sdp.connection?.isUnspecified == true)
        #expect(sdp.connection(for: sdp.media[0]) == SDPConnection(addressType: "IP4", address: "0.0.0.0"))
        #expect(sdp.connection(for: sdp.media[1])?.address == "192.0.2.5")
        #expect(sdp.connection(for: sdp.media[1])?.isUnspecified == false)
        sdp.direction = .sendrecv
        #expect(sdp.sessionLines[5] == "a=sendrecv")
        #expect(MediaDirection.sendonly.reversed == .recvonly)
        #expect(MediaDirection.inactive.reversed == .inactive)
    }

    @Test func connectionAddressAndPortAreReadable() throws {
        let sdp = try parse(cucmOffer)
        #expect(sdp.media[0].port == 27942)
        #expect(sdp.media[0].connection == nil)
        let connection = try #require(sdp.connection(for: sdp.media[0]))
        #expect(connection.networkType == "IN")
        #expect(connection.addressType == "IP4")
        #expect(connection.address == "10.20.5.33")
        #expect(SDPConnection("c=IN IP4 233.252.0.1/127/3")?.address == "233.252.0.1")
        #expect(SDPConnection("IN IP6 ::")?.isUnspecified == true)
        #expect(SDPConnection("c=IN") == nil)
    }

    @Test func combinedPeerAdaptationProducesExactText() throws {
        var sdp = try parse(cucmOffer)
        sdp.keepCodecs(["PCMA", "PCMU", "telephone-event"])
        sdp.orderCodecs(["PCMA"])
        sdp.remapTelephoneEvent(to: 100)
        sdp.setPacketTime(20)
        sdp.removeAttributes(prefix: "x-")
        #expect(
            sdp.description
                == crlf(
                    """
                    v=0
                    o=CiscoSystemsCCM-SIP 162308 1 IN IP4 10.20.1.10
                    s=SIP Call
                    c=IN IP4 10.20.5.33
                    b=TIAS:64000
                    b=AS:64
                    t=0 0
                    m=audio 27942 RTP/AVP 8 0 100
                    b=TIAS:64000
                    a=ptime:20
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:100 telephone-event/8000
                    a=fmtp:100 0-15
                    a=sendrecv

                    """))
        #expect(SessionDescription(sdp.description) == sdp)
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, _ replacement: String) -> String {
        let (a, b) = (Array(utf8), Array(target.utf8))
        guard b.count <= a.count else { return self }
        for i in 0...(a.count - b.count) where Array(a[i..<(i + b.count)]) == b {
            return String(decoding: a[..<i] + Array(replacement.utf8) + a[(i + b.count)...], as: UTF8.self)
        }
        return self
    }
}
