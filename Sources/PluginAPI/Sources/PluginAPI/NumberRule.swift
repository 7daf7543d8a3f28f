import Foundation

/// One rewrite of a number's text, for peers whose dialect the numbering context cannot express (a carrier that
/// wants `+49` as `49`, a gateway that adds a tech prefix). Rules work on the text as the peer writes it, before
/// `NumberingContext.toHouse` on the way in and after `fromHouse` on the way out.
///
/// Built once per configuration and applied per message: a regular expression is compiled and checked at init,
/// so configuration errors surface when the configuration is loaded and applying never compiles anything.
public struct NumberRule: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Pattern (matched against the whole number) and `$1`-style replacement template.
        case replace(pattern: String, template: String)
        case stripPrefix(String)
        case addPrefix(String)
    }

    public let kind: Kind
    // NSRegularExpression is immutable once built, safe to match from several threads at once, and declared
    // Sendable by Foundation, so one compiled instance serves every event loop.
    private let regex: NSRegularExpression?

    /// Rewrites numbers that `match` as a whole (it is anchored as `^(?:match)$`, so `49\d+` does not fire
    /// inside `+4930...`) into `replace`, where `$0` is the whole number, `$1`...`$9` the groups and `\$` a
    /// literal dollar sign. Throws when the pattern does not compile or the template names a group the
    /// pattern does not have (which NSRegularExpression would silently replace with nothing).
    public init(match pattern: String, replace template: String) throws(NumberRuleError) {
        // Compiling the pattern on its own first rejects patterns that would otherwise escape the anchoring
        // group: `a)|(b` is invalid alone but wraps into a valid `^(?:a)|(b)$` that matches inside numbers.
        guard let bare = try? NSRegularExpression(pattern: pattern),
            let anchored = try? NSRegularExpression(pattern: "^(?:\(pattern))$")
        else { throw .invalidPattern(pattern) }
        if let group = Self.firstUnknownGroup(in: template, groupCount: bare.numberOfCaptureGroups) {
            throw .unknownGroup(
                pattern: pattern, template: template, group: group, groupCount: bare.numberOfCaptureGroups)
        }
        kind = .replace(pattern: pattern, template: template)
        regex = anchored
    }

    /// Removes `prefix` from numbers that start with it and are longer than it (an empty number is never
    /// meaningful in a SIP URI, so a number equal to the prefix is left alone). An empty prefix does nothing.
    public init(stripPrefix prefix: String) {
        kind = .stripPrefix(prefix)
        regex = nil
    }

    /// Puts `prefix` before every number made only of digits, `*` and `#`, even one that already starts with it:
    /// adding an outside-line `0` to the national `030...` must give `0030...`. Numbers with a `+` and names such
    /// as `anonymous` are left alone. For a conditional addition use a `match` rule, for example
    /// `match: "(?!0)(\d+)", replace: "0$1"`. An empty prefix does nothing.
    public init(addPrefix prefix: String) {
        kind = .addPrefix(prefix)
        regex = nil
    }

    /// The rewritten number, or nil when the rule does not apply to it (useful to explain what happened).
    public func rewrite(_ number: String) -> String? {
        switch kind {
        case .replace(_, let template):
            guard let regex else { return nil }
            let whole = NSRange(location: 0, length: number.utf16.count)
            // `$` also matches before a final newline; insisting on the whole range keeps "whole number" exact.
            guard let match = regex.firstMatch(in: number, range: whole), match.range == whole else { return nil }
            return regex.replacementString(for: match, in: number, offset: 0, template: template)
        case .stripPrefix(let prefix):
            guard !prefix.isEmpty, number.hasPrefix(prefix), number.count > prefix.count else { return nil }
            return String(number.dropFirst(prefix.count))
        case .addPrefix(let prefix):
            guard !prefix.isEmpty, let dialable = PhoneNumber.dialable(number), dialable == number,
                !number.hasPrefix("+")
            else { return nil }
            return prefix + number
        }
    }

    /// The rewritten number, or the number unchanged when the rule does not apply.
    public func apply(_ number: String) -> String {
        rewrite(number) ?? number
    }

    public var description: String {
        switch kind {
        case .replace(let pattern, let template): "match '\(pattern)' -> '\(template)'"
        case .stripPrefix(let prefix): "strip prefix '\(prefix)'"
        case .addPrefix(let prefix): "add prefix '\(prefix)'"
        }
    }

    // The compiled regex follows from the kind, so equality and hashing look at the kind only.
    public static func == (lhs: NumberRule, rhs: NumberRule) -> Bool { lhs.kind == rhs.kind }
    public func hash(into hasher: inout Hasher) { hasher.combine(kind) }

    /// Mirrors NSRegularExpression's template syntax: `\` escapes the next character, and `$` takes digits for
    /// as long as they still name an existing group, so only a first digit beyond the group count is an error.
    private static func firstUnknownGroup(in template: String, groupCount: Int) -> Int? {
        var characters = template.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? characters.next() {
            pending = nil
            if c == "\\" {
                _ = characters.next()
            } else if c == "$", let next = characters.next() {
                guard let digit = next.wholeNumberValue, PhoneNumber.isDigit(next) else {
                    pending = next
                    continue
                }
                if digit > groupCount { return digit }
            }
        }
        return nil
    }
}

/// An ordered list of rules applied in sequence: each rule sees the output of the one before it, and every rule
/// that applies rewrites (it is a pipeline, not first-match-wins), so `[strip prefix 9, add prefix 0]` turns
/// `9301234` into `0301234`. A rule that does not apply passes the number on unchanged; an empty list is the
/// identity.
public struct NumberRules: Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var rules: [NumberRule]

    public init(_ rules: [NumberRule] = []) {
        self.rules = rules
    }

    public init(arrayLiteral rules: NumberRule...) {
        self.rules = rules
    }

    public var isEmpty: Bool { rules.isEmpty }

    public func apply(_ number: String) -> String {
        rules.reduce(number) { $1.apply($0) }
    }

    public var description: String { rules.map(\.description).joined(separator: "; ") }
}

public enum NumberRuleError: Error, Equatable, CustomStringConvertible {
    case invalidPattern(String)
    case unknownGroup(pattern: String, template: String, group: Int, groupCount: Int)

    public var description: String {
        switch self {
        case .invalidPattern(let pattern):
            "number rule pattern '\(pattern)' is not a valid regular expression"
        case .unknownGroup(let pattern, let template, let group, let groupCount):
            "number rule replacement '\(template)' refers to group $\(group), but pattern '\(pattern)' has "
                + (groupCount == 1 ? "only 1 group" : groupCount == 0 ? "no groups" : "only \(groupCount) groups")
        }
    }
}
