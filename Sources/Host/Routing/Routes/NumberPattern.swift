import Foundation
import PluginAPI
import SIPCore

/// How a route matches a house-format number: by prefix (the common case, compared without a regex engine) or by
/// a regular expression compiled once when the routes file is loaded.
public enum NumberPattern: Sendable, CustomStringConvertible {
    case prefix(String)
    case exact(String)
    case regex(CompiledRegex)

    public func matches(_ number: String) -> Bool {
        switch self {
        case .prefix(let p): return number.hasPrefix(p)
        case .exact(let e): return number == e
        case .regex(let r): return r.matches(number)
        }
    }

    /// True when every number this pattern matches is also matched by `other` (used to find shadowed routes).
    /// Only decided for prefixes and exact numbers; a regex covers only an identical regex.
    func isCovered(by other: NumberPattern) -> Bool {
        switch (self, other) {
        case (.prefix(let a), .prefix(let b)): return a.hasPrefix(b)
        case (.exact(let a), .prefix(let b)): return a.hasPrefix(b)
        case (.exact(let a), .exact(let b)): return a == b
        case (.regex(let a), .regex(let b)): return a.pattern == b.pattern
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .prefix(let p): return "prefix \(p)"
        case .exact(let e): return "exactly \(e)"
        case .regex(let r): return "regex \(r.pattern)"
        }
    }
}

/// A regular expression, compiled once when the routes file is loaded. NSRegularExpression is immutable once made and
/// documented as safe to use from several threads, which is what a routing snapshot shared by all event loops needs.
/// Anchored patterns (numbers) that `NumberRegex` can run are matched by it; ICU answers everything else.
public struct CompiledRegex: @unchecked Sendable {
    public let pattern: String
    let regex: NSRegularExpression
    let automaton: NumberRegex?

    /// - Parameter anchored: numbers match as a whole (`^(?:...)$`); header conditions search within the value.
    public init(_ pattern: String, anchored: Bool = true) throws {
        self.pattern = pattern
        regex = try NSRegularExpression(pattern: anchored ? "^(?:\(pattern))$" : pattern)
        // Only after ICU accepted it: a pattern ICU refuses is an error in the routes file, whatever the subset says.
        automaton = anchored ? NumberRegex(pattern) : nil
    }

    public func matches(_ s: String) -> Bool {
        var s = s
        if let automaton, let answer = s.withUTF8({ automaton.matches($0) }) { return answer }
        return matchesWithICU(s)
    }

    func matchesWithICU(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}
