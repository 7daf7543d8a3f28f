import PluginAPI
import Testing

/// The SDP model reads ASCII on bytes and falls back to Characters for anything else. These cases pin down where
/// the two could part: how an m= line is judged canonical, formats listed twice, and non-ASCII text next to the
/// separators. Every expectation is what the Character-based implementation produced.
@Suite struct SessionDescriptionEdgeCaseTests {
    private let head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"

    @Test(arguments: [
        "m=audio 06000 RTP/AVP 0", "m=audio +6000 RTP/AVP 0", "m=audio 6000/02 RTP/AVP 0", "m=audio 6000 RTP/AVP 0 ",
        "m=audio\t6000 RTP/AVP 0", "m=audio  6000 RTP/AVP 0", "m=audio 6000/-2 RTP/AVP 0", "m=audio 6000 RTP/AVP",
    ])
    func receivedMediaLineSurvivesUntilAFieldChanges(_ mediaLine: String) throws {
        let text = head + mediaLine + "\r\n"
        var sdp = try #require(SessionDescription(text))
        #expect(sdp.description == text)
        #expect(sdp.media[0].mediaLine == mediaLine)
        sdp.media[0].port = 7000
        sdp.media[0].port = 6000
        #expect(sdp.description == text, "a field set back to its parsed value restores the received line")
        sdp.media[0].formats.append("8")
        let count = sdp.media[0].portCount.map { "/\($0)" } ?? ""
        let formats = sdp.media[0].formats.joined(separator: " ")
        #expect(sdp.media[0].mediaLine == "m=audio 6000\(count) RTP/AVP \(formats)")
    }

    @Test func negativeNumbersAndPortZeroAreWrittenAsInterpolationWritesThem() throws {
        var section = try #require(MediaDescription(mediaLine: "m=audio 0 RTP/AVP 0"))
        #expect(section.description == "m=audio 0 RTP/AVP 0\r\n")
        section.port = -12
        section.portCount = Int.min
        #expect(section.mediaLine == "m=audio -12/\(Int.min) RTP/AVP 0")
        section.formats = []
        section.portCount = 0
        #expect(section.description == "m=audio -12/0 RTP/AVP\r\n")
    }

    @Test func aFormatListedTwiceIsOrderedAndKeptAsOne() throws {
        let text = head + "m=audio 6000 RTP/AVP 0 8 0\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        var ordered = try #require(SessionDescription(text))
        ordered.orderCodecs(["PCMU"])
        #expect(ordered.media[0].formats == ["0", "8"])
        var kept = try #require(SessionDescription(text))
        kept.keepCodecs(["PCMA"])
        #expect(kept.media[0].formats == ["8"])
        #expect(kept.media[0].lines == ["a=rtpmap:8 PCMA/8000"])
    }

    @Test func orderingThatChangesNothingLeavesTheDescriptionEqual() throws {
        let text = head + "m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
        let before = try #require(SessionDescription(text))
        var sdp = before
        sdp.orderCodecs(["PCMA", "PCMU"])
        #expect(sdp == before)
        #expect(sdp.description == text)
    }

    @Test func rtxAndRedParametersAreReadWithTheirSpacing() throws {
        let text =
            head + """
                m=video 6000 RTP/AVP 96 97 98 99\r
                a=rtpmap:96 VP8/90000\r
                a=rtpmap:97 rtx/90000\r
                a=fmtp:97 APT = 96\r
                a=rtpmap:98 H264/90000\r
                a=rtpmap:99 RED/90000\r
                a=fmtp:99  98/ 96 \r
                a=rtcp-fb:96 nack\r

                """
        var sdp = try #require(SessionDescription(text))
        sdp.removeCodecs(["VP8"])
        // " 96" is not a payload number of the redundancy list, so RED stays with H.264.
        #expect(sdp.media[0].formats == ["98", "99"])
        #expect(sdp.media[0].lines == ["a=rtpmap:98 H264/90000", "a=rtpmap:99 RED/90000", "a=fmtp:99  98/ 96 "])
    }

    @Test func nonASCIITextIsSplitAtCharacters() throws {
        // A combining mark after the blank makes one Character of the two, which trimming keeps.
        let text =
            head + "m=audio 6000 RTP/AVP 96 97\r\na=rtpmap:96 \u{301}opus/48000/2\r\na=rtpmap:97 opus/48000/2\r\n"
        let sdp = try #require(SessionDescription(text))
        #expect(sdp.media[0].codecs.map(\.name) == [" \u{301}opus", "opus"])
        #expect(sdp.media[0].formats(matching: "opus") == ["97"])
        // U+037E GREEK QUESTION MARK is canonically equivalent to ";", so it separates parameters.
        var greek = try #require(
            SessionDescription(
                head + "m=video 6000 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n"
                    + "a=fmtp:97 x=1\u{37E}apt=96\r\n"))
        greek.removeCodecs(["VP8"])
        #expect(greek.media[0].formats == ["96"])
        #expect(greek.media[0].port == 0)
    }
}
