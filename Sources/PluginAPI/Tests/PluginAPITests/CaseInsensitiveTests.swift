import PluginAPI
import Testing

/// `asciiEqualsIgnoringCase` compares lent buffers when both sides have them and steps iterators otherwise; both
/// ways must agree with comparing ASCII-lower-cased copies.
@Suite struct CaseInsensitiveTests {
    /// Reference: lower-case ASCII letters only (not `lowercased()`, which also folds non-ASCII letters).
    static func reference(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.map(asciiLower) == b.map(asciiLower)
    }

    /// Short byte strings over letters on both sides of the case bit, and bytes that differ from a letter only in
    /// bit 0x20 without being letters ('@' and '`', '[' and '{', CR and '-').
    static let alphabet: [UInt8] = Array("aAzZ-@`[{".utf8) + [0x0D, 0xC3, 0xA9]

    static var words: [[UInt8]] {
        var out: [[UInt8]] = [[]]
        for length in 1...2 {
            var next: [[UInt8]] = []
            for w in out where w.count == length - 1 { for c in alphabet { next.append(w + [c]) } }
            out += next
        }
        return out
    }

    @Test func everyPairAgreesWithTheReference() {
        let words = Self.words
        #expect(words.count == 1 + 12 + 144)
        var equalPairs = 0
        var disagreements: [String] = []
        for a in words {
            let sa = String(decoding: a, as: UTF8.self)
            let aIsText = sa.utf8.elementsEqual(a)
            for b in words where a.count == b.count {
                let expected = Self.reference(a, b)
                if expected { equalPairs += 1 }
                let sb = String(decoding: b, as: UTF8.self)
                // Arrays, Strings and Substrings lend their bytes; a reversed view does not, so it takes the
                // iterator path (compared against reversed input).
                var got = [asciiEqualsIgnoringCase(a, b), asciiEqualsIgnoringCase(a.reversed(), b.reversed())]
                if aIsText, sb.utf8.elementsEqual(b) {
                    got += [
                        asciiEqualsIgnoringCase(sa.utf8, sb.utf8), asciiEqualsIgnoringCase(Substring(sa).utf8, sb.utf8),
                    ]
                }
                if got.contains(where: { $0 != expected }) { disagreements.append("\(a) \(b) \(got)") }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        // Per position, 16 ordered pairs are equal: a/A and z/Z both ways round (2 x 2 each) and the 8 other bytes
        // with themselves. So 16^n pairs of length n.
        #expect(equalPairs == 1 + 16 + 256)
    }

    @Test func differentLengthsNeverMatch() {
        #expect(!asciiEqualsIgnoringCase("via".utf8, "vias".utf8))
        #expect(!asciiEqualsIgnoringCase(Array("".utf8), Array("a".utf8)))
        #expect(asciiEqualsIgnoringCase("".utf8, [UInt8]()))
        #expect(asciiEqualsIgnoringCase("Call-ID".utf8, "call-id".utf8))
        #expect(!asciiEqualsIgnoringCase("Call-ID".utf8, "call\rid".utf8))
        // Past the small-string size (15 bytes), where Strings keep their bytes on the heap.
        #expect(asciiEqualsIgnoringCase("P-Asserted-Identity".utf8, "p-asserted-IDENTITY".utf8))
        #expect(!asciiEqualsIgnoringCase("P-Asserted-Identity".utf8, "p-asserted-identitx".utf8))
        #expect(!asciiEqualsIgnoringCase("P-Asserted-Identity".utf8, "p-asserted@identity".utf8))
    }
}
