import SIPCore

/// A routing regex compiled into a position (Glushkov) automaton over bytes, for the patterns routes use on numbers:
/// literals, `.`, `\d`, `\D`, bracket classes with ranges and negation, groups, `|`, and the quantifiers `?`, `*`,
/// `+`, `{n}`, `{n,}`, `{n,m}` (lazy forms too: laziness does not change whether a whole number matches), with `^`
/// and `$` at the edges of the pattern or of a top-level alternative. Patterns outside that subset, or that need
/// more than 128 positions, get no automaton (`init` returns nil) and stay with NSRegularExpression.
///
/// Why: NSRegularExpression matched every INVITE's called number through an NSString bridge and ICU, about 1 % of
/// the router's CPU under load for a one-line pattern. The automaton answers whether the whole number matches
/// (routes anchor number patterns) in one pass with no allocation, and with no backtracking, so no pattern an
/// operator writes can make a number slow to match.
///
/// It reads printable ASCII only: for a number holding any other byte `matches` answers nil, and the caller asks
/// ICU, whose `.`, `\d` and line-end rules differ from these outside printable ASCII. The differential test in
/// NumberRegexTests holds the two to the same answers.
struct NumberRegex: Sendable {
    /// A set of up to 128 positions, or of printable ASCII bytes.
    struct Bits: Sendable, Equatable {
        package var lo: UInt64 = 0
        package var hi: UInt64 = 0

        static let printable: Bits = {
            var b = Bits()
            for c in 0x20...0x7E { b.insert(c) }
            return b
        }()
        package static let digits: Bits = {
            var b = Bits()
            for c in 0x30...0x39 { b.insert(c) }
            return b
        }()

        package mutating func insert(_ i: Int) {
            if i < 64 { lo |= 1 << UInt64(i) } else { hi |= 1 << UInt64(i - 64) }
        }
        package func contains(_ i: Int) -> Bool {
            i < 64 ? lo & (1 << UInt64(i)) != 0 : hi & (1 << UInt64(i - 64)) != 0
        }
        package var isEmpty: Bool { lo == 0 && hi == 0 }
        static func | (a: Bits, b: Bits) -> Bits { Bits(lo: a.lo | b.lo, hi: a.hi | b.hi) }
        static func & (a: Bits, b: Bits) -> Bits { Bits(lo: a.lo & b.lo, hi: a.hi & b.hi) }
        /// The complement within printable ASCII (for a negated class).
        var negatedPrintable: Bits { Bits(lo: ~lo & Bits.printable.lo, hi: ~hi & Bits.printable.hi) }

        /// Calls `body` with each member, in order.
        func forEachMember(_ body: (Int) -> Void) {
            var w = lo
            while w != 0 {
                body(w.trailingZeroBitCount)
                w &= w - 1
            }
            w = hi
            while w != 0 {
                body(64 + w.trailingZeroBitCount)
                w &= w - 1
            }
        }
    }

    private let nullable: Bool
    private let first: Bits
    private let last: Bits
    private let follow: [Bits]
    /// For each printable byte, the positions whose class holds it.
    private let accepts: [Bits]

    static let maxPositions = 128
    /// The largest count `{n,m}` may name: repeats are unrolled into positions.
    static let maxRepeat = 32

    package init?(_ pattern: String) {
        var parser = Parser(bytes: Array(pattern.utf8))
        guard let tree = parser.parse() else { return nil }
        var classes: [Bits] = []
        var follow: [Bits] = []
        guard let top = Self.build(tree, &classes, &follow) else { return nil }
        nullable = top.nullable
        first = top.first
        last = top.last
        self.follow = follow
        accepts = (0..<128).map { byte in
            var b = Bits()
            for (p, c) in classes.enumerated() where c.contains(byte) { b.insert(p) }
            return b
        }
    }

    /// Whether the whole of `bytes` matches; nil when `bytes` holds anything but printable ASCII.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        var state = Bits()
        for (i, byte) in bytes.enumerated() {
            guard byte >= 0x20, byte <= 0x7E else { return nil }
            var next = Bits()
            if i == 0 {
                next = first
            } else {
                state.forEachMember { next = next | follow[$0] }
            }
            state = next & accepts[Int(byte)]
            if state.isEmpty {
                // No match whatever follows, but a later byte outside printable ASCII must still defer to ICU.
                return bytes[(i + 1)...].allSatisfy { $0 >= 0x20 && $0 <= 0x7E } ? false : nil
            }
        }
        return bytes.isEmpty ? nullable : !(state & last).isEmpty
    }

    // MARK: - The pattern

    indirect enum Node {
        case empty
        case set(Bits)
        case concat([Node])
        case alternatives([Node])
        case repeated(Node, min: Int, max: Int?)
    }

    /// Recursive descent over the subset; nil for anything outside it (which ICU may still accept).
    struct Parser {
        package let bytes: [UInt8]
        package var i = 0
        var depth = 0

        package mutating func parse() -> Node? {
            guard let node = alternatives(top: true), i == bytes.count else { return nil }
            return node
        }

        private var atEnd: Bool { i == bytes.count }
        private var peek: UInt8? { atEnd ? nil : bytes[i] }

        private mutating func alternatives(top: Bool) -> Node? {
            var options: [Node] = []
            while true {
                guard let branch = sequence(top: top) else { return nil }
                options.append(branch)
                guard peek == UInt8(ascii: "|") else { break }
                i += 1
            }
            return options.count == 1 ? options[0] : .alternatives(options)
        }

        private mutating func sequence(top: Bool) -> Node? {
            var items: [Node] = []
            // `^` and `$` only where they cannot change the answer: routes anchor the whole pattern already.
            if top, peek == UInt8(ascii: "^") { i += 1 }
            while let c = peek, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
                if top, c == UInt8(ascii: "$") {
                    i += 1
                    guard atEnd || peek == UInt8(ascii: "|") else { return nil }
                    break
                }
                guard let item = quantified() else { return nil }
                items.append(item)
            }
            return items.isEmpty ? .empty : items.count == 1 ? items[0] : .concat(items)
        }

        private mutating func quantified() -> Node? {
            guard let atom = atom() else { return nil }
            guard let c = peek else { return atom }
            var node = atom
            switch c {
            case UInt8(ascii: "*"): node = .repeated(atom, min: 0, max: nil)
            case UInt8(ascii: "+"): node = .repeated(atom, min: 1, max: nil)
            case UInt8(ascii: "?"): node = .repeated(atom, min: 0, max: 1)
            case UInt8(ascii: "{"):
                guard let (lo, hi) = counts() else { return nil }
                return lazyOrPlain(.repeated(atom, min: lo, max: hi))
            default: return atom
            }
            i += 1
            return lazyOrPlain(node)
        }

        /// A lazy quantifier (`?` after it) matches the same whole strings; a possessive one (`+`) does not, and
        /// neither does a quantifier of a quantifier, so those are left to ICU.
        private mutating func lazyOrPlain(_ node: Node) -> Node? {
            if peek == UInt8(ascii: "?") { i += 1 }
            if let c = peek,
                c == UInt8(ascii: "+") || c == UInt8(ascii: "*") || c == UInt8(ascii: "?")
                    || c == UInt8(ascii: "{")
            {
                return nil
            }
            return node
        }

        /// `{n}`, `{n,}` or `{n,m}`, with `i` on the `{`; leaves `i` after the `}`.
        private mutating func counts() -> (Int, Int?)? {
            i += 1
            guard let lo = number() else { return nil }
            var hi: Int? = lo
            if peek == UInt8(ascii: ",") {
                i += 1
                hi = peek == UInt8(ascii: "}") ? nil : number()
                if hi == nil, peek != UInt8(ascii: "}") { return nil }
            }
            guard peek == UInt8(ascii: "}") else { return nil }
            i += 1
            if let hi, hi < lo { return nil }
            guard lo <= NumberRegex.maxRepeat, (hi ?? 0) <= NumberRegex.maxRepeat else { return nil }
            return (lo, hi)
        }

        private mutating func number() -> Int? {
            var value = 0
            var digits = 0
            while let c = peek, c >= 0x30, c <= 0x39, digits < 4 {
                value = value * 10 + Int(c - 0x30)
                digits += 1
                i += 1
            }
            return digits == 0 ? nil : value
        }

        private mutating func atom() -> Node? {
            guard let c = peek else { return nil }
            i += 1
            switch c {
            case UInt8(ascii: "("):
                // A capturing group or `(?:`; any other `(?` construct (flags, look-around) is ICU's.
                if peek == UInt8(ascii: "?") {
                    guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ":") else { return nil }
                    i += 2
                }
                depth += 1
                guard depth <= 16, let inner = alternatives(top: false), peek == UInt8(ascii: ")") else { return nil }
                i += 1
                depth -= 1
                return inner
            case UInt8(ascii: "["): return bracket()
            case UInt8(ascii: "."): return .set(Bits.printable)
            case UInt8(ascii: "\\"): return escape().map { .set($0) }
            default:
                guard isLiteral(c) else { return nil }
                var b = Bits()
                b.insert(Int(c))
                return .set(b)
            }
        }

        /// Printable ASCII other than the metacharacters (`]` and `}` alone are left to ICU too).
        private func isLiteral(_ c: UInt8) -> Bool {
            c >= 0x20 && c <= 0x7E && !"\\^$.|?*+()[]{}".utf8.contains(c)
        }

        /// After a `\`: `\d`, `\D`, or an escaped ASCII punctuation character (a literal). Letter and digit escapes
        /// other than `\d` and `\D` (`\w`, `\s`, `\p{...}`, back-references) are ICU's.
        private mutating func escape() -> Bits? {
            guard let c = peek else { return nil }
            i += 1
            switch c {
            case UInt8(ascii: "d"): return Bits.digits
            case UInt8(ascii: "D"): return Bits.digits.negatedPrintable
            default:
                guard c >= 0x21, c <= 0x7E, !isRangeEnd(c) else { return nil }
                var b = Bits()
                b.insert(Int(c))
                return b
            }
        }

        /// `[...]` or `[^...]` of letters, digits, `+`, `*`, `#`, ranges between letters or digits, `\d`, `\D` and
        /// escaped punctuation. ICU's set syntax goes further (nested sets, `&&`, POSIX classes, a leading `]` or
        /// `-`), so every other byte in a class leaves the pattern to ICU.
        private mutating func bracket() -> Node? {
            var negated = false
            if peek == UInt8(ascii: "^") {
                negated = true
                i += 1
            }
            var set = Bits()
            var members = 0
            while let c = peek, c != UInt8(ascii: "]") {
                i += 1
                if c == UInt8(ascii: "\\") {
                    guard let b = escape() else { return nil }
                    set = set | b
                } else {
                    guard isClassCharacter(c) else { return nil }
                    if peek == UInt8(ascii: "-"), i + 1 < bytes.count, bytes[i + 1] != UInt8(ascii: "]") {
                        let hi = bytes[i + 1]
                        guard isRangeEnd(c), isRangeEnd(hi), c <= hi else { return nil }
                        i += 2
                        for x in Int(c)...Int(hi) { set.insert(x) }
                    } else {
                        set.insert(Int(c))
                    }
                }
                members += 1
            }
            guard peek == UInt8(ascii: "]"), members > 0 else { return nil }
            i += 1
            return .set(negated ? set.negatedPrintable : set)
        }

        /// An ASCII letter or digit.
        private func isRangeEnd(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        }

        private func isClassCharacter(_ c: UInt8) -> Bool {
            isRangeEnd(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "*") || c == UInt8(ascii: "#")
        }
    }

    // MARK: - The automaton

    private struct Info {
        var nullable: Bool
        var first: Bits
        var last: Bits
    }

    /// Glushkov's construction: one position per class occurrence (repeats unrolled into fresh positions), and for
    /// each position the positions that may follow it. Nil beyond `maxPositions`.
    private static func build(_ node: Node, _ classes: inout [Bits], _ follow: inout [Bits]) -> Info? {
        switch node {
        case .empty:
            return Info(nullable: true, first: Bits(), last: Bits())
        case .set(let s):
            guard classes.count < maxPositions else { return nil }
            let p = classes.count
            classes.append(s)
            follow.append(Bits())
            var b = Bits()
            b.insert(p)
            return Info(nullable: false, first: b, last: b)
        case .concat(let items):
            var acc = Info(nullable: true, first: Bits(), last: Bits())
            for item in items {
                guard let next = build(item, &classes, &follow) else { return nil }
                acc = sequence(acc, next, &follow)
            }
            return acc
        case .alternatives(let options):
            var acc = Info(nullable: false, first: Bits(), last: Bits())
            for option in options {
                guard let o = build(option, &classes, &follow) else { return nil }
                acc = Info(nullable: acc.nullable || o.nullable, first: acc.first | o.first, last: acc.last | o.last)
            }
            return acc
        case .repeated(let inner, let min, let max):
            // ICU refuses a loop iteration that matches nothing, so `(?:1?|\d{2})+2` does not match "32" there
            // although the language holds it. Loops over a body that can be empty are left to ICU.
            if max.map({ $0 > 1 }) ?? true, isNullable(inner) { return nil }
            var acc = Info(nullable: true, first: Bits(), last: Bits())
            for _ in 0..<min {
                guard let copy = build(inner, &classes, &follow) else { return nil }
                acc = sequence(acc, copy, &follow)
            }
            if let max {
                for _ in min..<max {
                    guard var copy = build(inner, &classes, &follow) else { return nil }
                    copy.nullable = true
                    acc = sequence(acc, copy, &follow)
                }
            } else {
                guard var loop = build(inner, &classes, &follow) else { return nil }
                let first = loop.first
                loop.last.forEachMember { follow[$0] = follow[$0] | first }
                loop.nullable = true
                acc = sequence(acc, loop, &follow)
            }
            return acc
        }
    }

    private static func isNullable(_ node: Node) -> Bool {
        switch node {
        case .empty: return true
        case .set: return false
        case .concat(let items): return items.allSatisfy(isNullable)
        case .alternatives(let options): return options.contains(where: isNullable)
        case .repeated(let inner, let min, _): return min == 0 || isNullable(inner)
        }
    }

    /// `a` then `b`: every last position of `a` may be followed by every first position of `b`.
    private static func sequence(_ a: Info, _ b: Info, _ follow: inout [Bits]) -> Info {
        let bFirst = b.first
        a.last.forEachMember { follow[$0] = follow[$0] | bFirst }
        return Info(
            nullable: a.nullable && b.nullable,
            first: a.nullable ? a.first | b.first : a.first,
            last: b.nullable ? a.last | b.last : b.last)
    }
}
