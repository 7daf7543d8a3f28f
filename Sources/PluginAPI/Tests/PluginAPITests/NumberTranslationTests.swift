import Testing

// @testable for `NameAddress.userRange(in:)`, the scan number translation uses instead of the parsers.
@testable import PluginAPI

@Suite struct NumberTranslationTests {
    /// Every combination of the spellings below (display names with delimiters inside quotes, name-addr and
    /// addr-spec, schemes, user parts with parameters and passwords, hosts with good and bad ports, URI parameters
    /// and headers, header parameters, surrounding space): 14,742 values, some of which the parser refuses.
    static var spellings: [String] {
        let displays = ["", "Alice ", "\"Bob <x>; y, z\" ", "\"Esc \\\" <q>\" "]
        let schemes = ["sip:", "SIPS:", "tel:", "http:", "s p:", ""]
        let users = ["0301234567@", "+49 (30) 1234@", "4711;phone-context=+4930@", "alice:secret@", "", "@", "12:34@"]
        let hosts = [
            "pbx.example", "[2001:db8::1]:5060", "192.0.2.1:99999", ":5060", "gw:abc", "", "gw:+5060", "gw:-0", "gw:",
        ]
        let uriTails = ["", ";user=phone", "?Reason=SIP%3Bcause%3D302"]
        let headerTails = ["", ";tag=a1b2", ";reason=unconditional;privacy=off"]
        var values: [String] = []
        for d in displays {
            for s in schemes {
                for u in users {
                    for h in hosts {
                        for ut in uriTails {
                            for ht in headerTails {
                                let uri = s + u + h + ut
                                values.append(d + "<" + uri + ">" + ht)
                                if d.isEmpty, ut.isEmpty { values.append(" " + uri + ht + " ") }
                            }
                        }
                    }
                }
            }
        }
        return values
    }

    /// The scan must find exactly the user part the parser finds, and nothing where the parser fails; otherwise
    /// translation would rewrite text the parser does not take for a number, or miss one it does.
    @Test func theScanFindsTheUserPartTheParserFinds() {
        let values = Self.spellings
        #expect(values.count == 14_742)
        var parsed = 0
        for v in values {
            let scanned = NameAddress.userRange(in: Substring(v)).map { String(v[$0]) }
            let expected = NameAddress(v).flatMap(\.uri.user)
            #expect(scanned == expected, "\(v.debugDescription)")
            if expected != nil { parsed += 1 }
            var m = SIPMessage(startLine: .request(method: "INVITE", uri: v, version: "SIP/2.0"))
            m.headers = [SIPHeader("From", v)]
            #expect(m.fromUser.map(String.init) == expected, "\(v.debugDescription)")
            #expect(m.requestURIUser.map(String.init) == m.requestURI?.user, "\(v.debugDescription)")
        }
        // Both outcomes are exercised in quantity.
        #expect(parsed > 1_000 && parsed < values.count - 1_000)
    }

    /// Rewriting a user part in place gives the value the old parse-and-rewrite did (same display name, URI and
    /// parameters once parsed), while the text around the number stays as written.
    @Test func onlyTheNumberChangesAndTheRestStaysAsWritten() {
        for v in Self.spellings {
            var m = SIPMessage(startLine: .request(method: "INVITE", uri: "sip:gw@h", version: "SIP/2.0"))
            m.headers = [SIPHeader("To", v)]
            let changes = NumberTranslation.apply(to: &m) { n, _ in "+49" + n.filter(\.isNumber) }
            let after = m.headers[0].value
            guard var expected = NameAddress(v), let user = expected.uri.user else {
                #expect(after == v, "\(v.debugDescription)")
                continue
            }
            let number = String(user.prefix { $0 != ";" })
            guard NumberTranslation.looksLikeNumber(number) else {
                #expect(after == v && changes.isEmpty, "\(v.debugDescription)")
                continue
            }
            let translated = "+49" + number.filter(\.isNumber)
            expected.uri.user = translated + user.dropFirst(number.count)
            #expect(NameAddress(after) == expected, "\(v.debugDescription) -> \(after.debugDescription)")
            #expect(after.replacingOccurrences(of: translated, with: number) == v, "\(after.debugDescription)")
            #expect(changes == [.init(place: "To", role: .called, before: number, after: translated)])
        }
    }

    @Test func everyPlaceIsTranslatedWithItsRoleAndListEntriesOneByOne() throws {
        var m = try SIPMessage(
            parsing: """
                INVITE sip:0301234567;phone-context=+49@gw.example;user=phone SIP/2.0\r
                Via: SIP/2.0/UDP pbx.example;branch=z9hG4bK-1\r
                t: "Sales, Berlin" <sip:0301234567@gw.example>\r
                From: 4711 <sip:4711@pbx.example>;tag=f1\r
                P-Asserted-Identity: <sip:4711@pbx.example>, <tel:4711>\r
                Diversion: <sip:4712@pbx.example>;reason=unconditional,<sip:alice@pbx.example>\r
                Diversion: <sip:4713@pbx.example>;reason=no-answer\r
                Referred-By: <sip:4714@pbx.example>\r
                Call-ID: c1\r
                CSeq: 1 INVITE\r
                \r

                """)
        let changes = NumberTranslation.apply(to: &m) { n, role in "<\(role.rawValue):\(n)>" }
        #expect(
            changes.map(\.place) == [
                "Request-URI", "To", "From", "P-Asserted-Identity", "P-Asserted-Identity", "Diversion", "Diversion",
                "Referred-By",
            ])
        #expect(
            changes.map(\.role) == [
                .called, .called, .calling, .calling, .calling, .redirecting, .redirecting, .calling,
            ])
        guard case .request(_, let uri, _) = m.startLine else {
            Issue.record("not a request")
            return
        }
        #expect(uri == "sip:<called:0301234567>;phone-context=+49@gw.example;user=phone")
        #expect(
            m.headers.map(\.value)[1...6] == [
                "\"Sales, Berlin\" <sip:<called:0301234567>@gw.example>",
                "4711 <sip:<calling:4711>@pbx.example>;tag=f1",
                "<sip:<calling:4711>@pbx.example>, <tel:<calling:4711>>",
                "<sip:<redirecting:4712>@pbx.example>;reason=unconditional,<sip:alice@pbx.example>",
                "<sip:<redirecting:4713>@pbx.example>;reason=no-answer",
                "<sip:<calling:4714>@pbx.example>",
            ])

        // In a response the asserted identity is the connected party.
        var response = SIPMessage(startLine: .response(version: "SIP/2.0", status: 200, reason: "OK"))
        response.headers = [SIPHeader("P-Asserted-Identity", "<sip:4711@pbx.example>")]
        let connected = NumberTranslation.apply(to: &response) { n, _ in "+49" + n }
        #expect(connected == [.init(place: "P-Asserted-Identity", role: .connected, before: "4711", after: "+494711")])
    }

    /// Changes are reported in place order (Request-URI, To, From, then each identity and redirection header),
    /// whatever order the fields arrive in; only the first To and From count; compact names and any case are
    /// understood, and names that only resemble one are not.
    @Test func placesAreReportedInTheirOrderWhateverTheFieldOrder() {
        var m = SIPMessage(startLine: .request(method: "INVITE", uri: "sip:1@gw", version: "SIP/2.0"))
        m.headers = [
            SIPHeader("b", "<sip:2@pbx>"), SIPHeader("HISTORY-INFO", "<sip:3@pbx>;index=1"),
            SIPHeader("Remote-Party-Id", "<sip:4@pbx>;party=calling"), SIPHeader("diversion", "<sip:5@pbx>"),
            SIPHeader("P-Preferred-Identity", "<sip:6@pbx>"), SIPHeader("p-asserted-identity", "<sip:7@pbx>"),
            SIPHeader("f", "<sip:8@pbx>;tag=a"), SIPHeader("t", "<sip:9@gw>"), SIPHeader("To", "<sip:10@gw>"),
            SIPHeader("FROM", "<sip:11@pbx>"), SIPHeader("Tox", "<sip:12@gw>"),
            SIPHeader("X-Diversion", "<sip:13@pbx>"),
            SIPHeader("Referred-Byx", "<sip:14@pbx>"), SIPHeader("Toe", "<sip:15@gw>"),
        ]
        let changes = NumberTranslation.apply(to: &m) { n, _ in "+" + n }
        #expect(
            changes.map(\.place) == [
                "Request-URI", "To", "From", "P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID",
                "Diversion",
                "History-Info", "Referred-By",
            ])
        #expect(changes.map(\.before) == ["1", "9", "8", "7", "6", "4", "5", "3", "2"])
        #expect(
            changes.map(\.role) == [
                .called, .called, .calling, .calling, .calling, .calling, .redirecting, .redirecting, .calling,
            ])
        // The second To and From, and the lookalikes, are as they were.
        #expect(
            m.headers[8...].map(\.value) == [
                "<sip:10@gw>", "<sip:11@pbx>", "<sip:12@gw>", "<sip:13@pbx>", "<sip:14@pbx>", "<sip:15@gw>",
            ])
    }

    /// The field classification agrees with the header model's own name comparison for every name of a kind, in
    /// three cases and compact form, and for names of the same lengths that are not one.
    @Test func fieldKindsAgreeWithTheNameComparison() {
        let kinds = NumberTranslation.NumberHeader.allCases
        var names = kinds.flatMap { [$0.name, $0.name.lowercased(), $0.name.uppercased()] }
        names += ["t", "T", "f", "F", "b", "B", "i", "v", "Tx", "Fram", "Diversio_", "Referred-Bz", "History-Inf0"]
        names += ["Remote-Party-IE", "P-Asserted-Identitz", "P-Preferred-Identitz", "", "Via", "Call-ID"]
        for name in names {
            let expected = kinds.first { SIPHeader(name, "").hasName($0.name.lowercased()) }
            #expect(NumberTranslation.NumberHeader.kind(of: name) == expected, "\(name)")
        }
    }
}

/// `PhoneNumber.dialable` and `isValidE164` work on bytes; they must answer as the Character rules they replaced.
@Suite struct DialableTests {
    static func characterDialable(_ text: String) -> String? {
        let stripped = String(text.filter { !PhoneNumber.visualSeparators.contains($0) })
        let body = stripped.hasPrefix("+") ? stripped.dropFirst() : Substring(stripped)
        guard !body.isEmpty, body.allSatisfy({ PhoneNumber.isDigit($0) || $0 == "*" || $0 == "#" }) else { return nil }
        return stripped
    }

    static func characterE164(_ text: String) -> Bool {
        guard text.first == "+" else { return false }
        let body = text.dropFirst()
        return (1...15).contains(body.count) && body.first != "0" && body.allSatisfy(PhoneNumber.isDigit)
    }

    @Test func agreeWithTheCharacterRules() {
        let alphabet = Array("019+*#-.() /a;\u{0663}\u{00E9}\u{0301}\r")
        // Every text of up to three characters from the alphabet, then longer random ones.
        var samples = [""]
        var level = [""]
        for _ in 0..<3 {
            level = level.flatMap { s in alphabet.map { s + String($0) } }
            samples += level
        }
        samples += ["+49 (30) 123-4567", "030/1234567", "+4930123456789012", "+493012345678901", "+0301", "1\u{0301}2"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let n = Int(generator.next(upperBound: UInt(18)))
            let digits = Array("0123456789+ -")
            samples.append(String((0..<n).map { _ in digits[Int(generator.next(upperBound: UInt(digits.count)))] }))
        }
        var dialable = 0
        for s in samples {
            #expect(PhoneNumber.dialable(s) == Self.characterDialable(s), "\(s.debugDescription)")
            #expect(PhoneNumber.isValidE164(s) == Self.characterE164(s), "\(s.debugDescription)")
            if Self.characterDialable(s) != nil { dialable += 1 }
        }
        #expect(dialable > 1_000)
    }
}
