import Testing

// @testable for `[SIPParameter].parse`, the reading the byte scan of `NameAddress.tag(in:)` replaced.
@testable import PluginAPI

@Suite struct TagScanTests {
    /// How `tag(in:)` read a tag before the byte scan: the header parameters after the `>` of a name-addr (or after
    /// the first `;` outside quotes of an addr-spec), parsed into a list, and the first one named `tag`.
    static func parsedTag(_ text: String) -> String? {
        let t = Substring(text)
        let parameters: Substring
        if let lt = UserPartScan.offsetIndex(in: t, { UserPartScan.angle($0, 0, $0.count) }) {
            guard let gt = t[lt...].utf8.firstIndex(of: 0x3E) else { return nil }
            parameters = t[t.utf8.index(after: gt)...]
        } else {
            guard let semi = firstOutsideQuotes(t, 0x3B) else { return nil }
            parameters = t[semi...]
        }
        return [SIPParameter].parse(parameters)[parameter: "tag"]
    }

    /// Every spelling of the number-translation tests, with tag parameters in every case, spacing, quoting and
    /// position (bare, twice, inside the URI, inside a quoted display name), read by the scan and by the parser.
    @Test func theScanReadsTheTagTheParameterParserReads() {
        let tails = [
            "", ";tag=a1", ";TAG = B2 ", ";tag", ";tag;tag=late", ";x=1;Tag=c3;tag=d4", "; tag=\"q;t\"", ";tag=",
            " ;\ttag\t=\te5", ";tagx=1", ";ta=1;tag=f6",
        ]
        var checked = 0
        var found = 0
        for v in NumberTranslationTests.spellings.enumerated().filter({ $0.offset % 7 == 0 }).map(\.element) {
            for tail in tails {
                let text = v.trimmingCharacters(in: " ") + tail
                let expected = Self.parsedTag(text)
                #expect(NameAddress.tag(in: text) == expected, "\(text.debugDescription)")
                checked += 1
                if expected != nil { found += 1 }
            }
        }
        // Both outcomes, in quantity.
        #expect(checked > 20_000 && found > 5_000 && found < checked - 5_000)
    }

    @Test func theTagAfterTheURIIsTheOneThatCounts() {
        #expect(NameAddress.tag(in: "\"A;tag=no <x>\" <sip:a@b;tag=uri>;tag=abc") == "abc")
        #expect(NameAddress.tag(in: "<sip:a@b;tag=uri>") == nil)
        #expect(NameAddress.tag(in: "sip:a@b;TAG = x ") == "x")
        #expect(NameAddress.tag(in: "<sip:a@b>;tag;tag=y") == nil, "the first parameter named tag decides")
        #expect(NameAddress.tag(in: "<sip:a@b") == nil)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
