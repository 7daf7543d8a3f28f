import Testing

// @testable for `firstOutsideQuotes` and the byte loop its memchr path stands in for.
@testable import PluginAPI

@Suite struct QuoteScanTests {
    /// Every string of up to five bytes over the characters that matter (separators, quotes, an escape, angle
    /// brackets) and two that do not, at every start and end offset: the memchr path and the byte loop agree.
    @Test(arguments: [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\"")])
    func theMemchrPathFindsWhatTheByteLoopFinds(separator: UInt8) {
        let alphabet = Array(",;\"<>\\a ".utf8)
        var strings: [[UInt8]] = [[]]
        var last: [[UInt8]] = [[]]
        for _ in 1...5 {
            last = last.flatMap { s in alphabet.map { s + [$0] } }
            strings += last
        }
        var found = 0
        var checked = 0
        for s in strings {
            s.withUnsafeBufferPointer { b in
                for from in 0...b.count {
                    for to in from...b.count {
                        let expected = firstOutsideQuotesByByte(b, separator, from, to)
                        #expect(firstOutsideQuotes(b, separator, from, to) == expected, "\(s) \(from)..<\(to)")
                        checked += 1
                        if expected != nil { found += 1 }
                    }
                }
            }
        }
        if separator == UInt8(ascii: ",") || separator == UInt8(ascii: ";") {
            // Both outcomes, in quantity.
            #expect(checked > 500_000 && found > 50_000 && found < checked - 50_000)
        } else {
            #expect(found == 0, "a quote or an angle bracket is structure, never a separator")
        }
    }
}
