import PluginAPI
import Testing

/// `HeaderNameList` is the compiled form of a strip list; it must decide exactly as the list's text does
/// (`[String].matchesHeader(_:)`), for every spelling of a name: case, compact forms, prefixes, near misses.
@Suite struct HeaderNameListTests {
    static let lists: [[String]] = [
        [],
        ["X-*", "Remote-Party-ID", "P-Preferred-Identity"],
        ["user-agent", "SERVER", "i", "Subject"],
        ["x-a*", "X-*", "Alert-Info", "c"],
        ["*"],
        ["History-*", "diversion", "P-Asserted-Identity", "Privacy", "X-Cisco-*"],
    ]

    static let names: [String] = {
        let stems = [
            "X-Tenant", "x-a", "X-A-Thing", "X", "X-", "Remote-Party-ID", "Remote-Party-I", "Remote-Party-IDs",
            "P-Preferred-Identity", "User-Agent", "Server", "Call-ID", "i", "I", "Content-Type", "c", "Subject",
            "s", "Alert-Info", "History-Info", "Diversion", "P-Asserted-Identity", "Privacy", "X-Cisco-Guid",
            "Via", "v", "To", "t", "CSeq", "Ä-Header", "x-ä",
        ]
        return stems.flatMap { [$0, $0.lowercased(), $0.uppercased()] }
    }()

    @Test func decidesAsTheListText() {
        var matched = 0
        for list in Self.lists {
            let compiled = HeaderNameList(list)
            #expect(compiled.entries == list)
            #expect(compiled.isEmpty == list.isEmpty)
            for name in Self.names {
                let header = SIPHeader(name, "v")
                let expected = list.matchesHeader(header)
                #expect(compiled.matches(header) == expected, "\(list) \(name)")
                if expected { matched += 1 }
            }
        }
        // Both answers are exercised in quantity.
        #expect(matched > 60 && matched < Self.lists.count * Self.names.count - 60)
    }

    @Test func removesEveryMatchingFieldAndKeepsTheOrderOfTheRest() {
        var m = SIPMessage(startLine: .request(method: "INVITE", uri: "sip:a@b", version: "SIP/2.0"))
        m.headers = [
            SIPHeader("Via", "1"), SIPHeader("x-tenant", "2"), SIPHeader("Remote-Party-ID", "3"), SIPHeader("To", "4"),
            SIPHeader("X-Other", "5"), SIPHeader("From", "6"),
        ]
        m.removeHeaders(HeaderNameList(["X-*", "remote-party-id"]))
        #expect(m.headers.map(\.value) == ["1", "4", "6"])
    }
}
