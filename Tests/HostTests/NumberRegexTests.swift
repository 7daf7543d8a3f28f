import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

// @testable for NumberRegex, CompiledRegex's ICU path and SplitMix64 (a failing generated case comes back next run).

/// Route regexes on numbers run as `NumberRegex` automata where the pattern allows; ICU (NSRegularExpression) stays
/// the reference for what a pattern means.
@Suite struct NumberRegexTests {
    /// Generated patterns (literals, escapes, classes, groups, alternatives, every quantifier form, edge anchors) and
    /// generated numbers: wherever a pattern gets an automaton, it must answer as ICU does for every number.
    @Test func theAutomatonAnswersAsICUDoes() throws {
        var rng = SplitMix64(seed: 0x4E55_4D42_4552)
        func roll(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        func pick(_ options: [String]) -> String { options[roll(options.count)] }
        func atom(_ depth: Int) -> String {
            if depth < 1, roll(5) == 0 { return pick(["(", "(?:"]) + alternatives(depth + 1) + ")" }
            return pick([
                "0", "1", "4", "9", "\\+", "\\*", "#", ".", "\\d", "\\D", "[0-9]", "[^1-3]", "[2-9#*]", "[\\d+]",
                "[1-5a-c]", "a", "\\.", "-",
            ])
        }
        func quantifier() -> String {
            roll(2) == 0 ? "" : pick(["?", "*", "+", "{2}", "{1,}", "{0,3}", "{2,4}", "*?", "+?", "{1,2}?", "{0}"])
        }
        func sequence(_ depth: Int) -> String { (0..<(1 + roll(4))).map { _ in atom(depth) + quantifier() }.joined() }
        func alternatives(_ depth: Int) -> String {
            (0..<(1 + (roll(3) == 0 ? 1 + roll(2) : 0))).map { _ in sequence(depth) }.joined(separator: "|")
        }
        func number() -> String {
            let alphabet = Array("0123456789012345678901234567+*#a-. ")
            return String((0..<roll(9)).map { _ in alphabet[roll(alphabet.count)] })
        }

        var compiled = 0
        var matched = 0
        var compared = 0
        for _ in 0..<3_000 {
            var pattern = alternatives(0)
            if roll(5) == 0 { pattern = "^" + pattern }
            if roll(5) == 0 { pattern += "$" }
            let regex = try CompiledRegex(pattern)
            guard let automaton = regex.automaton else { continue }
            compiled += 1
            for _ in 0..<40 {
                var n = number()
                let icu = regex.matchesWithICU(n)
                let answer = n.withUTF8 { automaton.matches($0) }
                #expect(answer == icu, "pattern \(pattern) number '\(n)'")
                compared += 1
                if icu { matched += 1 }
            }
        }
        // Most generated patterns are in the subset, and both answers come up in quantity.
        #expect(compiled > 2_000, "\(compiled)")
        #expect(matched > 5_000 && matched < compared - 5_000, "\(matched) of \(compared)")
    }

    @Test func patternsRoutesUseGetAnAutomaton() throws {
        let patterns = [
            "\\+44[1-9]\\d+", "(\\+49|0049)30\\d{4,8}", "^\\+1[2-9]\\d{9}$", ".*", "\\+4930(1234|5678)\\d*",
            "(?:\\+|00)33[1-9]\\d{8}", "[*#]\\d{2,3}#?", "\\+49(?:15|16|17)\\d+?",
        ]
        for p in patterns { #expect(try CompiledRegex(p).automaton != nil, "\(p)") }
        let r = try CompiledRegex("\\+44[1-9]\\d+")
        #expect(r.matches("+442079460000"))
        #expect(!r.matches("+440123"))
        #expect(!r.matches("+44"))
        #expect(!r.matches("x+442079460000"), "numbers match as a whole")
    }

    /// Constructs whose meaning the subset does not reproduce stay with ICU, which then decides the match. A loop
    /// over a body that can match nothing is one: ICU does not let such an iteration match nothing, so
    /// `\d(?:1?|\d{2})+?2` does not match "32" there although the language holds it.
    @Test func everythingElseStaysWithICU() throws {
        let cases: [(String, String, Bool)] = [
            ("(?i)abc", "ABC", true), ("\\p{Nd}+", "123", true), ("a*+a", "aaa", false), ("(1)\\1", "11", true),
            ("[[:digit:]]+", "42", true), ("\\d{1,40}", "1234", true), ("\\w+", "a_1", true), ("[-1]", "-", true),
            ("[a&&b]", "a", false),
        ]
        for (pattern, number, expected) in cases {
            let r = try CompiledRegex(pattern)
            #expect(r.automaton == nil, "\(pattern)")
            #expect(r.matches(number) == expected, "\(pattern) on \(number)")
        }
        for pattern in ["\\d(?:1?|\\d{2})+?2", "(0?)*1", "(?:|5)+", "(1*){2,3}"] {
            #expect(try CompiledRegex(pattern).automaton == nil, "\(pattern)")
        }
        #expect(try CompiledRegex("(0?)?1|(1{0,2}){1}").automaton != nil, "a body that can be empty, not looped")
    }

    /// ICU's `\d` takes any decimal digit, its `.` no line end: numbers outside printable ASCII go to ICU.
    @Test func numbersOutsidePrintableASCIIAreICUs() throws {
        let r = try CompiledRegex("\\d+")
        let automaton = try #require(r.automaton)
        for n in ["١٢٣", "12\n", "12\u{7F}", "+49 30 ١"] {
            var s = n
            #expect(s.withUTF8 { automaton.matches($0) } == nil, "\(n.debugDescription)")
            #expect(r.matches(n) == r.matchesWithICU(n), "\(n.debugDescription)")
        }
        #expect(r.matches("١٢٣"), "as ICU reads \\d")
    }
}
