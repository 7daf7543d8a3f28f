import PluginAPI
import Testing

@Suite struct SIPMessageTests {
    static let invite = """
        INVITE sip:0301234567@gw.example;user=phone SIP/2.0\r
        v: SIP/2.0/UDP pbx.example:5060;branch=z9hG4bK-1\r
        Via: SIP/2.0/UDP edge.example;branch=z9hG4bK-0, SIP/2.0/TCP core.example;branch=z9hG4bK-x\r
        Max-Forwards: 70\r
        f: "Anna \\"AS\\" Schmidt" <sip:2345@pbx.example>;tag=a1\r
        t: sip:0301234567@gw.example\r
        i: call-1@pbx.example\r
        CSeq: 7 INVITE\r
        m: <sip:2345@10.0.0.5:5060;transport=udp>;expires=60\r
        Diversion: <sip:2000@pbx.example>;reason=unconditional;counter=1,\r
         <tel:+49301232001>;reason=user-busy\r
        X-Tenant: berlin\r
        Content-Type: application/sdp\r
        l: 13\r
        \r
        v=0\r
        s=-\r
        extra-bytes-beyond-content-length
        """

    @Test func framingCompactFormsFoldingAndContentLength() throws {
        let m = try SIPMessage(parsing: Self.invite)
        #expect(m.method == "INVITE")
        #expect(m.header("Call-ID") == "call-1@pbx.example")
        #expect(m.header("call-id") == m.header("i"))
        #expect(m.values("Via").count == 3, "compact and long form, and two entries in one line")
        #expect(m.values("Diversion").count == 2, "folded continuation line joined")
        #expect(String(decoding: m.body, as: UTF8.self) == "v=0\r\ns=-\r\next", "body cut at Content-Length")
        #expect(m.cseq?.number == 7)
        #expect(m.cseq?.method == "INVITE")
    }

    @Test func nameAddrHeadersAreTyped() throws {
        let m = try SIPMessage(parsing: Self.invite)
        let from = try #require(m.from)
        #expect(from.displayName == #"Anna \"AS\" Schmidt"#)
        #expect(from.uri.user == "2345")
        #expect(from.uri.host == "pbx.example")
        #expect(from.tag == "a1")
        let to = try #require(m.to)
        #expect(to.uri.user == "0301234567", "addr-spec form without angle brackets")
        let contact = try #require(m.nameAddresses("Contact").first)
        #expect(contact.uri.port == 5060)
        #expect(contact.uri.parameters[parameter: "transport"] == "udp")
        #expect(contact.parameters[parameter: "expires"] == "60")
        let div = m.nameAddresses("Diversion")
        #expect(div.map(\.uri.user) == ["2000", "+49301232001"])
        #expect(div[1].uri.isTel)
        #expect(div[0].parameters[parameter: "reason"] == "unconditional")
        #expect(m.requestURI?.parameters[parameter: "user"] == "phone")
    }

    @Test func editingKeepsOrderAndSerialisesAValidMessage() throws {
        var m = try SIPMessage(parsing: Self.invite)
        m.removeHeader("X-Tenant")
        m.setHeader("P-Asserted-Identity", "<sip:+49301232345@pbx.example>")
        var ruri = try #require(m.requestURI)
        ruri.user = "+49301234567"
        m.requestURI = ruri
        m.body = Array("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n".utf8)
        let text = m.text
        #expect(text.hasPrefix("INVITE sip:+49301234567@gw.example;user=phone SIP/2.0\r\nv: SIP/2.0/UDP"))
        #expect(!text.contains("X-Tenant"))
        #expect(text.contains("\r\nContent-Length: 36\r\n\r\nv=0"), "length of the new body")
        #expect(!text.contains("l: 13"), "the stale length is gone")
        let again = try SIPMessage(bytes: m.serialized())
        #expect(again == m)
    }

    @Test func setValuesReplacesAListHeaderInPlace() throws {
        var m = try SIPMessage(parsing: Self.invite)
        var div = m.nameAddresses("Diversion")
        div[0].uri.user = "+49301232000"
        m.setNameAddresses("Diversion", div)
        #expect(m.headers.filter { $0.canonicalName == "diversion" }.count == 2)
        let idx = try #require(m.headers.firstIndex { $0.canonicalName == "diversion" })
        #expect(m.headers[idx + 2].name == "X-Tenant", "position of the header kept")
        #expect(m.nameAddresses("Diversion").first?.uri.user == "+49301232000")
    }

    @Test func framingErrors() {
        #expect(throws: SIPFramingError.self) { try SIPMessage(parsing: "") }
        #expect(throws: SIPFramingError.self) { try SIPMessage(parsing: "INVITE sip:a@b\r\n\r\n") }
        #expect(throws: SIPFramingError.self) { try SIPMessage(parsing: "SIP/2.0 99 Nope\r\n\r\n") }
        #expect(throws: SIPFramingError.self) {
            try SIPMessage(parsing: "OPTIONS sip:a@b SIP/2.0\r\nNoColonHere\r\n\r\n")
        }
        #expect(throws: SIPFramingError("Content-Length 50 exceeds the 3 body bytes received")) {
            try SIPMessage(parsing: "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 50\r\n\r\nabc")
        }
    }

    @Test func responseStartLine() throws {
        let m = try SIPMessage(parsing: "SIP/2.0 183 Session Progress\r\nCSeq: 1 INVITE\r\n\r\n")
        #expect(m.statusCode == 183)
        #expect(m.method == "INVITE")
        #expect(!m.isRequest)
        #expect(m.text.hasPrefix("SIP/2.0 183 Session Progress\r\n"))
    }

    /// A sender sizes its buffer by `serializedByteCount`; it must be exactly what `serialized()` gives, for requests
    /// and responses, with and without a body, with non-ASCII text.
    @Test func theSerialisedSizeIsKnownBeforeSerialising() throws {
        var messages = [try SIPMessage(parsing: Self.invite)]
        var response = SIPMessage(startLine: .response(version: "SIP/2.0", status: 486, reason: "Besetzt – später"))
        response.headers = [SIPHeader("To", "\"Jürgen\" <sip:j@b>;tag=1"), SIPHeader("X-Empty", "")]
        messages.append(response)
        response.body = Array("v=0\r\ns=Größe\r\n".utf8)
        messages.append(response)
        messages.append(SIPMessage(startLine: .request(method: "OPTIONS", uri: "sip:a@b", version: "SIP/2.0")))
        for m in messages {
            let bytes = m.serialized()
            #expect(m.serializedByteCount == bytes.count, "\(m.startLine)")
            let tail = "Content-Length: \(m.body.count)\r\n\r\n" + String(decoding: m.body, as: UTF8.self)
            #expect(String(decoding: bytes, as: UTF8.self).hasSuffix(tail))
        }
        #expect(
            String(decoding: messages[3].serialized(), as: UTF8.self)
                == "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n")
    }

    /// A name set answers as a Set of lower-cased long names answers for the canonical name, for every long name
    /// and compact form in three cases, and for near misses (a letter more or less, a different letter).
    @Test func nameSetsAnswerAsTheSetOfCanonicalNames() {
        let members: Set<String> = ["via", "contact", "p-asserted-identity", "to", "content-type", "x"]
        let set = SIPHeader.NameSet(members)
        var names = Array(SIPHeader.compactForms.keys) + Array(SIPHeader.compactForms.values) + Array(members)
        names += ["vias", "vi", "vib", "p-asserted-identitx", "tO", "", "X", "content_type", "Contact "]
        names += names.map { $0.uppercased() } + names.map { String($0.prefix(1)).uppercased() + $0.dropFirst() }
        var hits = 0
        for name in names {
            let expected = members.contains(SIPHeader.canonical(name))
            #expect(set.contains(name) == expected, "\(name)")
            if expected { hits += 1 }
        }
        #expect(hits > 20 && hits < names.count - 20)
    }
}

@Suite struct URITests {
    @Test(arguments: [
        ("sip:alice@atlanta.com", "alice" as String?, "atlanta.com", nil as Int?),
        ("sips:+4930123;phone-context=x@gw.example:5061;transport=tls", "+4930123;phone-context=x", "gw.example", 5061),
        ("sip:[2001:db8::1]:5070", nil, "[2001:db8::1]", 5070),
        ("sip:user:secret@host", "user", "host", nil),
    ])
    func parsesAndRoundTrips(_ text: String, _ user: String?, _ host: String, _ port: Int?) throws {
        let u = try #require(SIPURI(text))
        #expect(u.user == user)
        #expect(u.host == host)
        #expect(u.port == port)
        #expect(u.description == text)
    }

    @Test func telURI() throws {
        let u = try #require(SIPURI("tel:+49301234567;phone-context=+49"))
        #expect(u.isTel)
        #expect(u.user == "+49301234567")
        #expect(u.parameters[parameter: "phone-context"] == "+49")
        #expect(u.description == "tel:+49301234567;phone-context=+49")
    }

    @Test func rejectsNonURIs() {
        #expect(SIPURI("no scheme here") == nil)
        #expect(SIPURI("sip:") == nil)
        #expect(SIPURI("sip:host:99999") == nil)
    }
}

@Suite struct IdentityConversionTests {
    @Test func remotePartyIDBecomesAssertedIdentityWithPrivacy() throws {
        var m = try SIPMessage(
            parsing: """
                INVITE sip:1@b SIP/2.0\r
                Remote-Party-ID: "Anna" <sip:2345@pbx>;party=calling;screen=yes;privacy=full\r
                Remote-Party-ID: <sip:2000@pbx>;party=called\r
                \r

                """)
        m.convertRemotePartyIDToAssertedIdentity()
        #expect(!m.hasHeader("Remote-Party-ID"))
        #expect(m.header("P-Asserted-Identity") == "\"Anna\" <sip:2345@pbx>")
        #expect(m.header("Privacy") == "id")
    }

    @Test func existingAssertedIdentityWins() throws {
        var m = try SIPMessage(
            parsing: "INVITE sip:1@b SIP/2.0\r\nP-Asserted-Identity: <sip:1@x>\r\nRemote-Party-ID: <sip:2@y>\r\n\r\n")
        m.convertRemotePartyIDToAssertedIdentity()
        #expect(m.header("P-Asserted-Identity") == "<sip:1@x>")
        #expect(!m.hasHeader("Remote-Party-ID"))
        #expect(!m.hasHeader("Privacy"))
    }

    @Test func assertedIdentityBecomesRemotePartyID() throws {
        var m = try SIPMessage(
            parsing: "INVITE sip:1@b SIP/2.0\r\nP-Asserted-Identity: <sip:+4930@x>\r\nPrivacy: id\r\n\r\n")
        m.convertAssertedIdentityToRemotePartyID()
        #expect(m.header("Remote-Party-ID") == "<sip:+4930@x>;party=calling;screen=yes;privacy=full")
        #expect(!m.hasHeader("P-Asserted-Identity"))
    }

    @Test func headerNamesMatchWithoutCaseAndInCompactForm() throws {
        for (short, long) in SIPHeader.compactForms {
            #expect(SIPHeader(short, "x").hasName(long))
            #expect(SIPHeader(short.uppercased(), "x").hasName(long))
            #expect(SIPHeader.canonical(short.uppercased()) == long)
        }
        #expect(SIPHeader("P-Asserted-IDENTITY", "x").hasName("p-asserted-identity"))
        #expect(!SIPHeader("P-Asserted-Identity", "x").hasName("p-asserted-identitx"))
        #expect(!SIPHeader("To", "x").hasName("t"), "a compact form is not its own long name")
        #expect(SIPHeader("q", "x").hasName("q"), "a one-letter name that is no compact form is itself")
        #expect(!SIPHeader("Via", "x").hasName("vi"))
        #expect(["User-Agent", "x-*"].matchesHeader(SIPHeader("user-agent", "a")))
        #expect(["User-Agent", "x-*"].matchesHeader(SIPHeader("X-Custom", "a")))
        #expect(!["User-Agent", "x-*"].matchesHeader(SIPHeader("Via", "a")))
        #expect(["f"].matchesHeader(SIPHeader("From", "a")), "a compact entry strips the long form too")
    }

    @Test func topViaIsTheFirstEntryOfTheFirstField() throws {
        var m = SIPMessage(startLine: .request(method: "BYE", uri: "sip:a@b", version: "SIP/2.0"))
        #expect(m.topVia == nil)
        m.headers = [
            SIPHeader("v", "  SIP/2.0/UDP a;branch=\"x,y\" , SIP/2.0/UDP b"), SIPHeader("Via", "SIP/2.0/UDP c"),
        ]
        #expect(m.topVia == "SIP/2.0/UDP a;branch=\"x,y\"", "a comma inside quotes does not end the entry")
    }

    @Test func tagsReadWithoutParsingTheURIAgreeWithTheParsedValue() throws {
        let values = [
            "\"A;tag=no <x>\" <sip:a@b;tag=uri>;tag=abc", "<sip:a@b>", "sip:a@b;tag=plain", "sip:a@b",
            "<sip:a@b>;TAG=Upper;x=1", "\"q\\\" <\" <sip:a@b>;tag=esc",
        ]
        for v in values {
            var m = SIPMessage(startLine: .response(version: "SIP/2.0", status: 200, reason: "OK"))
            m.headers = [SIPHeader("t", v), SIPHeader("From", v)]
            #expect(m.toTag == m.to?.tag, "\(v)")
            #expect(m.fromTag == m.from?.tag, "\(v)")
        }
        var m = SIPMessage(startLine: .response(version: "SIP/2.0", status: 200, reason: "OK"))
        m.headers = [SIPHeader("To", "\"A;tag=no <x>\" <sip:a@b;tag=uri>;tag=abc")]
        #expect(m.toTag == "abc")
    }

    /// `canonical` lower-cases written names byte by byte: for every long name, compact form and a few others, in
    /// the cases they are written in, it must agree with String.lowercased() (compact forms aside).
    @Test func canonicalNamesAreTheLowerCasedLongForm() {
        var names = Array(SIPHeader.compactForms.values) + ["X-Custom-Header-With-A-Long-Name", "P-Asserted-Identity"]
        names += names.map { $0.uppercased() } + names.map { String($0.prefix(1)).uppercased() + $0.dropFirst() }
        for name in names {
            #expect(SIPHeader.canonical(name) == name.lowercased(), "\(name)")
        }
        #expect(SIPHeader.canonical("I") == "call-id")
        #expect(SIPHeader.canonical("Ü-Header") == "ü-header", "not a token, but lower-cased all the same")
    }

    /// The CSeq is read on bytes; on 5,000 generated values it must agree with the plain rule: two words separated
    /// by spaces or tabs, the first all digits and within 32 bits.
    @Test func cseqReadsAsThePlainRuleReadsIt() {
        var generator = SystemRandomNumberGenerator()
        let pieces = [
            "1", "7", "42", "4294967295", "4294967296", "99999999999", "+5", "-1", "INVITE", "BYE", "ACK",
            " ", "  ", "\t", "x1", "1x", "",
        ]
        for _ in 0..<5_000 {
            let value = (0..<Int.random(in: 1...5, using: &generator))
                .map { _ in pieces.randomElement(using: &generator)! }.joined()
            var m = SIPMessage(startLine: .request(method: "INVITE", uri: "sip:a@b", version: "SIP/2.0"))
            m.headers = [SIPHeader("CSeq", value)]
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let expected: (UInt32, String)? =
                words.count == 2 && words[0].allSatisfy(\.isASCIIDigitForTest)
                ? UInt32(words[0]).map { ($0, String(words[1])) } : nil
            #expect(m.cseq?.number == expected?.0 && m.cseq?.method == expected?.1, "\(value.debugDescription)")
        }
    }
}

extension Character {
    fileprivate var isASCIIDigitForTest: Bool { ("0"..."9").contains(self) }
}
