import Testing

// @testable for `SIPMessage.parseStartLine`, which works on bytes.
@testable import PluginAPI

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
        let words = [
            "INVITE", "SIP/2.0", "sip:4711@pbx", "200", "+200", "99", "700", "OK", "Not Found", "", "SIP/", "x",
        ]
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

/// `SIPMessage.headerLines` finds line feeds with memchr in one pass; it must split exactly as the two byte-by-byte
/// passes it replaced (kept below as the reference), for every mix of line ends, blank lines and missing ends.
@Suite struct HeaderLinesTests {
    static func reference(_ bytes: [UInt8]) -> (lines: [Range<Int>], bodyStart: Int) {
        var headerEnd = -1
        var bodyStart = bytes.count
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x0A {
                if bytes[i + 1] == 0x0A {
                    headerEnd = i
                    bodyStart = i + 2
                    break
                }
                if bytes[i + 1] == 0x0D, i + 2 < bytes.count, bytes[i + 2] == 0x0A {
                    headerEnd = i
                    bodyStart = i + 3
                    break
                }
            }
            i += 1
        }
        if headerEnd < 0 { headerEnd = bytes.count }
        var lines: [Range<Int>] = []
        var lineStart = 0
        for j in 0...headerEnd where j == headerEnd || bytes[j] == 0x0A {
            var lineEnd = j
            if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd > lineStart { lines.append(lineStart..<lineEnd) }
            lineStart = j + 1
        }
        return (lines, bodyStart)
    }

    @Test func splitsAsTheByteScanDid() {
        // Every sequence of up to six pieces from this alphabet, then the same with a body after it.
        let pieces: [[UInt8]] = [Array("a".utf8), Array("Via: x".utf8), [0x0D], [0x0A], [0x0D, 0x0A], [0x20]]
        var inputs: [[UInt8]] = [[]]
        var frontier: [[UInt8]] = [[]]
        for _ in 1...6 {
            frontier = frontier.flatMap { prefix in pieces.map { prefix + $0 } }
            inputs += frontier
        }
        var withBody = 0
        for input in inputs + inputs.map({ $0 + Array("\r\n\r\nv=0\r\n".utf8) }) {
            let got = SIPMessage.headerLines(input)
            let expected = Self.reference(input)
            #expect(got.lines == expected.lines && got.bodyStart == expected.bodyStart, "\(input)")
            if expected.bodyStart < input.count { withBody += 1 }
        }
        #expect(inputs.count == 55_987 && withBody > inputs.count)
    }
}
