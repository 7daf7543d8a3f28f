import PluginAPI
import Testing

/// Header octets that are not UTF-8 survive parsing and serialising, and compare as octets.
@Suite struct OctetTextTests {
    static func bytes(callID: [UInt8]) -> [UInt8] {
        Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: ".utf8) + callID
            + Array("\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".utf8)
    }

    @Test func invalidUTF8InACallIDRoundTripsByteForByte() throws {
        let raw: [UInt8] = [0x61, 0xFF, 0x80, 0x62, 0xC3]  // a, two invalid bytes, b, a truncated sequence
        let m = try SIPMessage(bytes: Self.bytes(callID: raw))
        #expect(m.serialized() == Self.bytes(callID: raw))
        #expect(m.serializedByteCount >= Self.bytes(callID: raw).count, "a capacity, at least what is written")
        #expect(OctetText.octets(m.callID ?? "") == raw)
    }

    @Test func callIDsDifferingOnlyInHighBytesStayDifferent() throws {
        let a = try SIPMessage(bytes: Self.bytes(callID: [0x78, 0xFE]))
        let b = try SIPMessage(bytes: Self.bytes(callID: [0x78, 0xFF]))
        #expect(a.callID != b.callID)
        #expect(OctetKey(a.callID!) != OctetKey(b.callID!))
        var set: Set<OctetKey> = [OctetKey(a.callID!)]
        #expect(set.insert(OctetKey(b.callID!)).inserted)
    }

    /// Valid UTF-8 is kept as text (a display name stays readable), and canonically equivalent spellings, which
    /// Swift's `==` calls equal, are different octets and different keys.
    @Test func validUTF8IsTextAndComparesAsOctets() throws {
        let composed = Array("caf\u{E9}".utf8)
        let decomposed = Array("cafe\u{301}".utf8)
        #expect(OctetText.decode(composed) == "caf\u{E9}")
        #expect(!OctetText.hasEscapes(OctetText.decode(composed)))
        #expect(OctetText.decode(composed) == OctetText.decode(decomposed), "Swift's == is canonical equivalence")
        #expect(!OctetText.equal(OctetText.decode(composed), OctetText.decode(decomposed)))
        #expect(OctetKey(OctetText.decode(composed)) != OctetKey(OctetText.decode(decomposed)))
    }

    /// A real code point of the escape range is itself escaped, so decoding stays one-to-one.
    @Test func escapeRangeCodePointsInTheInputRoundTrip() throws {
        let raw = Array("x\u{10FFAB}y".utf8) + [0xAB]
        let text = OctetText.decode(raw)
        #expect(OctetText.octets(text) == raw)
        #expect(text != OctetText.decode([0x78, 0xAB, 0x79, 0xAB]))
    }

    @Test func asciiIsUnchanged() {
        let raw = Array("pb0-abc@127.0.0.1".utf8)
        #expect(OctetText.decode(raw) == "pb0-abc@127.0.0.1")
        #expect(OctetText.octets("pb0-abc@127.0.0.1") == raw)
    }
}
