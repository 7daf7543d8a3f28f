import PluginAPI
import Testing

@Suite struct NumberRuleTests {
    @Test(arguments: [
        ("49301234567", "+49301234567"),
        ("+49301234567", "+49301234567"),  // anchored: `49\d+` does not fire inside it
        ("0049301234567", "0049301234567"),
        ("49", "49"),
    ])
    func matchReplace(number: String, expected: String) throws {
        let rule = try NumberRule(match: #"49(\d+)"#, replace: "+49$1")
        #expect(rule.apply(number) == expected)
        #expect((rule.rewrite(number) != nil) == (number != expected))
    }

    @Test func patternMatchesTheWholeNumberOnly() throws {
        let three = try NumberRule(match: #"\d{3}"#, replace: "x")
        #expect(three.apply("123") == "x")
        #expect(three.apply("1234") == "1234")
        #expect(three.apply("a123") == "a123")
        // `$` alone would also accept a trailing newline.
        #expect(three.apply("123\n") == "123\n")
        // Alternatives are anchored together: `^1|12$` would only ever see the `1`.
        #expect(try NumberRule(match: "1|12", replace: "x").apply("12") == "x")
        #expect(try NumberRule(match: "1|12", replace: "x").apply("123") == "123")
    }

    @Test func templates() throws {
        #expect(try NumberRule(match: #"\d+"#, replace: "0$0").apply("123") == "0123")
        #expect(try NumberRule(match: #"(\d)(\d+)"#, replace: "$2$1").apply("123") == "231")
        #expect(try NumberRule(match: #"(\d+)"#, replace: #"\$1"#).apply("123") == "$1")
        // `$10` with one group is group 1 followed by a 0, as in NSRegularExpression.
        #expect(try NumberRule(match: #"(\d+)"#, replace: "$10").apply("123") == "1230")
        #expect(try NumberRule(match: "(?i)anonymous", replace: "").apply("Anonymous") == "")
    }

    @Test(arguments: ["(abc", "[0-9", "a)|(b", "*", #"\Qabc"#, #"abc\"#])
    func invalidPatternThrows(pattern: String) {
        #expect(throws: NumberRuleError.invalidPattern(pattern)) {
            try NumberRule(match: pattern, replace: "x")
        }
        #expect(
            NumberRuleError.invalidPattern(pattern).description
                == "number rule pattern '\(pattern)' is not a valid regular expression")
    }

    @Test func replacementNamingAMissingGroupThrows() throws {
        let error = #expect(throws: NumberRuleError.self) {
            try NumberRule(match: #"(\d+)"#, replace: "+49$2")
        }
        #expect(error == .unknownGroup(pattern: #"(\d+)"#, template: "+49$2", group: 2, groupCount: 1))
        #expect(
            error?.description
                == #"number rule replacement '+49$2' refers to group $2, but pattern '(\d+)' has only 1 group"#)
        #expect(throws: NumberRuleError.unknownGroup(pattern: #"\d+"#, template: "$1", group: 1, groupCount: 0)) {
            try NumberRule(match: #"\d+"#, replace: "$1")
        }
        #expect(
            NumberRuleError.unknownGroup(pattern: "p", template: "t", group: 4, groupCount: 3).description
                .hasSuffix("has only 3 groups"))
        #expect(
            NumberRuleError.unknownGroup(pattern: "p", template: "t", group: 1, groupCount: 0).description
                .hasSuffix("has no groups"))
        // Escaped or not followed by a digit, a dollar sign names no group.
        #expect(try NumberRule(match: #"\d+"#, replace: #"\$1$x$"#).apply("5") == "$1$x$")
    }

    @Test(arguments: [("9301234", "301234"), ("9", "9"), ("8301234", "8301234"), ("", "")])
    func stripPrefix(number: String, expected: String) {
        #expect(NumberRule(stripPrefix: "9").apply(number) == expected)
        #expect(NumberRule(stripPrefix: "").apply(number) == number)
    }

    @Test(arguments: [
        ("0301234", "00301234"),  // even when it already starts with the prefix
        ("2345", "02345"),
        ("*31#", "0*31#"),
        ("+49301234", "+49301234"),
        ("anonymous", "anonymous"),
        ("030 1234", "030 1234"),  // separators mean it has not been normalised: leave it
        ("", ""),
    ])
    func addPrefix(number: String, expected: String) {
        #expect(NumberRule(addPrefix: "0").apply(number) == expected)
        #expect(NumberRule(addPrefix: "").apply(number) == number)
    }

    @Test func rewriteTellsWhetherTheRuleApplied() throws {
        #expect(NumberRule(stripPrefix: "9").rewrite("8123") == nil)
        #expect(NumberRule(stripPrefix: "9").rewrite("9123") == "123")
        #expect(try NumberRule(match: "1", replace: "1").rewrite("1") == "1")  // applied, even if unchanged
    }

    @Test func equalityAndDescription() throws {
        let a = try NumberRule(match: #"(\d+)"#, replace: "0$1")
        #expect(a == (try NumberRule(match: #"(\d+)"#, replace: "0$1")))
        #expect(a != (try NumberRule(match: #"(\d+)"#, replace: "00$1")))
        #expect(Set([a, try NumberRule(match: #"(\d+)"#, replace: "0$1")]).count == 1)
        #expect(NumberRule(stripPrefix: "0") != NumberRule(addPrefix: "0"))
        #expect(a.kind == .replace(pattern: #"(\d+)"#, template: "0$1"))
        #expect(a.description == #"match '(\d+)' -> '0$1'"#)
        #expect(NumberRule(stripPrefix: "9").description == "strip prefix '9'")
        #expect(NumberRule(addPrefix: "0").description == "add prefix '0'")
    }

    @Test func sharedAcrossTasks() async throws {
        let rule = try NumberRule(match: #"0(\d+)"#, replace: "+49$1")
        let results = await withTaskGroup(of: String.self) { group in
            for i in 0..<200 { group.addTask { rule.apply("030\(1_000_000 + i)") } }
            return await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.hasPrefix("+4930") && $0.count == 12 })
    }
}

@Suite struct NumberRulesTests {
    @Test func everyRuleSeesThePreviousOutput() throws {
        let rules: NumberRules = [NumberRule(stripPrefix: "9"), NumberRule(addPrefix: "0")]
        #expect(rules.apply("9301234") == "0301234")
        #expect(rules.apply("301234") == "0301234")  // strip did not apply, add still did
        // Not first-match-wins: the second rule only matches because the first one rewrote.
        let chained: NumberRules = [
            try NumberRule(match: #"(\d)"#, replace: "1$1"),
            try NumberRule(match: #"1(\d)"#, replace: "2$1"),
        ]
        #expect(chained.apply("5") == "25")
        #expect(chained.apply("55") == "55")
    }

    @Test func orderMatters() {
        let stripThenAdd = NumberRules([NumberRule(stripPrefix: "0"), NumberRule(addPrefix: "0")])
        let addThenStrip = NumberRules([NumberRule(addPrefix: "0"), NumberRule(stripPrefix: "0")])
        #expect(stripThenAdd.apply("0301234") == "0301234")
        #expect(addThenStrip.apply("301234") == "301234")
        #expect(stripThenAdd.apply("301234") == "0301234")
    }

    @Test func emptyListIsIdentity() {
        let rules = NumberRules()
        #expect(rules.isEmpty)
        for n in ["", "anonymous", "+49301234567", "0301234"] { #expect(rules.apply(n) == n) }
    }

    @Test func description() throws {
        let rules: NumberRules = [NumberRule(stripPrefix: "9"), try NumberRule(match: "0(.*)", replace: "+49$1")]
        #expect(rules.description == "strip prefix '9'; match '0(.*)' -> '+49$1'")
        #expect(!rules.isEmpty)
    }
}

/// `looksLikeNumber` works on bytes; it must answer as the Character-based rule it replaced.
@Suite struct LooksLikeNumberTests {
    static func characterRule(_ s: String) -> Bool {
        guard !s.isEmpty, s.contains(where: \.isNumber) else { return false }
        return s.allSatisfy { ($0.isASCII && $0.isNumber) || "+*#-.() ".contains($0) }
    }

    @Test func agreesWithTheCharacterRule() {
        var samples = [
            "", "4711", "+49 (30) 123-45.67", "*31#0301234", "#", "+", "alice", "anonymous", "0301234;x", "12a",
            "\u{0663}\u{0664}", "1\u{0301}", "\u{FF11}\u{FF12}", "½", "+\u{00A0}49", "49\r", "\t49", "49 ",
        ]
        let alphabet = Array("0123456789+*#-.() a;\u{0663}\u{00E9}")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let n = Int(generator.next(upperBound: UInt(6)))
            samples.append(String((0..<n).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] }))
        }
        for s in samples {
            #expect(NumberTranslation.looksLikeNumber(s) == Self.characterRule(s), "\(s.debugDescription)")
        }
    }
}
