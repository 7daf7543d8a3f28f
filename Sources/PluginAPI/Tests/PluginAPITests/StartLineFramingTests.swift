// @testable for `SIPMessage.parseStartLine`, which works on bytes.
@testable import PluginAPI
import Testing

/// The start line is split on bytes; it must read every line as the Substring split it replaced did.
@Suite struct StartLineFramingTests {
    static func substringRule(_ line: Substring) -> SIPMessage.StartLine? {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if line.hasPrefix("SIP/") {
            guard parts.count >= 2, let status = Int(parts[1]), (100...699).contains(status) else { return nil }
            return .response(version: String(parts[0]), status: status, reason: parts.count > 2 ? String(parts[2]) : "")
        }
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].hasPrefix("SIP/") else { return nil }
        return .request(method: String(parts[0]), uri: String(parts[1]), version: String(parts[2]))
    }

    @Test func agreesWithTheSubstringSplit() {
        let words = ["INVITE", "SIP/2.0", "sip:4711@pbx", "200", "+200", "99", "700", "OK", "Not Found", "", "SIP/", "x"]
        let separators = [" ", "  ", ""]
        var lines: [String] = []
        for a in words {
            for s1 in separators {
                for b in words {
                    for s2 in separators {
                        for c in words { lines.append(a + s1 + b + s2 + c) }
                    }
                }
            }
        }
        var accepted = 0
        for line in lines {
            let expected = Self.substringRule(Substring(line))
            let got = try? SIPMessage.parseStartLine(ArraySlice(line.utf8))
            #expect(got == expected, "\(line.debugDescription)")
            if expected != nil { accepted += 1 }
        }
        #expect(accepted > 100 && accepted < lines.count - 100, "\(accepted) of \(lines.count)")
    }
}
