import Testing

@testable import Engine
@testable import SIPCore

@Suite struct RandomWordsTests {
    /// Across many refills, no word repeats and every bit position takes both values: a failed fill (zeros) or a
    /// batch handed out twice would show at once.
    @Test func wordsAreDistinctAcrossRefills() {
        var random = RandomWords()
        var seen = Set<UInt64>()
        var ones: UInt64 = 0
        var zeros: UInt64 = 0
        for _ in 0..<10_000 {
            let w = random.next()
            seen.insert(w)
            ones |= w
            zeros |= ~w
        }
        #expect(seen.count == 10_000)
        #expect(ones == .max)
        #expect(zeros == .max)
    }

    /// Two shards draw independent words.
    @Test func twoGeneratorsDoNotRepeatEachOther() {
        var a = RandomWords()
        var b = RandomWords()
        let first = (0..<100).map { _ in a.next() }
        let second = (0..<100).map { _ in b.next() }
        #expect(Set(first).isDisjoint(with: second))
    }
}
