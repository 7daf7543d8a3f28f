import PluginAPI
import Testing

@testable import Calls

@Suite struct OptionTagsTests {
    @Test(arguments: [
        ("100rel", true), ("timer, 100rel", true), (" 100REL ,replaces", true), ("100rel2", false),
        ("x100rel", false), ("timer", false), ("", false), ("replaces,\t100rel", true),
    ])
    func anOptionTagIsFoundInAListWithoutCase(list: String, found: Bool) {
        #expect(OptionTags.contains(list: list.utf8, "100rel") == found, "\(list)")
    }

    @Test func everyHeaderOfTheNameCounts() {
        let m = SIPMessage(
            startLine: .request(method: "INVITE", uri: "sip:a@b", version: "SIP/2.0"),
            headers: [
                SIPHeader("Supported", "replaces"), SIPHeader("k", "timer"), SIPHeader("Allow", "INVITE, UPDATE"),
            ])
        #expect(OptionTags.contains(m, "Supported", "timer"), "k is Supported's compact form")
        #expect(OptionTags.contains(m, "Allow", "update"))
        #expect(!OptionTags.contains(m, "Require", "timer"))
    }
}
