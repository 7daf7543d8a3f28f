#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `;name=value` (or bare `;name`) parameter of a URI or a header, kept in order and in the case written.
public struct SIPParameter: Sendable, Hashable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == SIPParameter {
    /// Parameter names are case-insensitive (RFC 3261 section 19.1.4).
    public subscript(parameter name: String) -> String? {
        get { first { $0.name.caseInsensitiveEquals(name) }?.value }
    }

    public func has(_ name: String) -> Bool { contains { $0.name.caseInsensitiveEquals(name) } }

    public mutating func set(_ name: String, _ value: String?) {
        if let i = firstIndex(where: { $0.name.caseInsensitiveEquals(name) }) {
            self[i].value = value
        } else {
            append(SIPParameter(name, value))
        }
    }

    public mutating func remove(_ name: String) { removeAll { $0.name.caseInsensitiveEquals(name) } }

    /// Parses `;a=b;c` (leading `;` optional); quoted values keep their quotes.
    static func parse(_ text: Substring) -> [SIPParameter] {
        UserPartScan.withBytes(of: text) { parse($0, 0, $0.count) }
    }

    /// `parse` of `b[from..<to]`, on bytes.
    static func parse(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> [SIPParameter] {
        var out: [SIPParameter] = []
        forEach(b, from, to) { name, value in
            out.append(
                SIPParameter(
                    UserPartScan.string(b, name.lowerBound, name.upperBound),
                    value.map { UserPartScan.string(b, $0.lowerBound, $0.upperBound) }))
            return true
        }
        return out
    }

    /// Calls `body` with each parameter of `b[from..<to]` as offsets, until it returns false: split on `;` outside
    /// quotes and angle brackets, each part trimmed of SIP whitespace, empty parts skipped, the name before the
    /// first `=` and the value (nil without one) after it, both trimmed. What `parse` builds and what a scan for one
    /// parameter (the To tag) reads, without building the others.
    static func forEach(
        _ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ body: (Range<Int>, Range<Int>?) -> Bool
    ) {
        var partStart = from
        while partStart <= to {
            let end = firstOutsideQuotes(b, UInt8(ascii: ";"), partStart, to) ?? to
            let (lo, hi) = UserPartScan.trimmed(b, partStart, end)
            if lo < hi {
                let proceed: Bool
                if let eq = UserPartScan.first(b, UInt8(ascii: "="), lo, hi) {
                    let (nameLo, nameHi) = UserPartScan.trimmed(b, lo, eq)
                    let (valueLo, valueHi) = UserPartScan.trimmed(b, eq + 1, hi)
                    proceed = body(nameLo..<nameHi, valueLo..<valueHi)
                } else {
                    proceed = body(lo..<hi, nil)
                }
                if !proceed { return }
            }
            partStart = end + 1
        }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        // Parameter names are tokens: ASCII case folding on bytes, without lower-cased copies of both sides per
        // comparison (every tag lookup makes some).
        asciiEqualsIgnoringCase(utf8, other.utf8)
    }
}

/// The byte with an ASCII capital letter lower-cased; every other byte as it is.
@inlinable @inline(__always)
public func asciiLower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

/// Equal bytes, ignoring the case of ASCII letters: how SIP tokens (header and parameter names, schemes) and SDP
/// names compare, without lower-cased copies on the per-message path.
@inlinable
public func asciiEqualsIgnoringCase<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
    guard a.count == b.count else { return false }
    // Native Strings, Substrings and arrays lend their bytes: one loop over two buffers instead of two collection
    // iterators stepped together (`elementsEqual` was 2.7 % of the INVITE micro-benchmark's samples).
    let lent = a.withContiguousStorageIfAvailable { x in
        b.withContiguousStorageIfAvailable { y in
            for i in 0..<x.count where asciiLower(x[i]) != asciiLower(y[i]) { return false }
            return true
        }
    }
    if let lent, let equal = lent { return equal }
    return a.elementsEqual(b) { asciiLower($0) == asciiLower($1) }
}

extension Substring {
    func trimmingSIPWhitespace() -> Substring {
        // Most values have nothing to trim; two bytes say so (the whitespace here is ASCII, and a multi-byte
        // character neither starts nor ends with an ASCII byte).
        func wsByte(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
        guard let first = utf8.first, let last = utf8.last, wsByte(first) || wsByte(last) else { return self }
        // On unicode scalars: "\r\n" is a single Character and would escape a Character comparison.
        let u = unicodeScalars
        var a = u.startIndex
        var b = u.endIndex
        func ws(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }
        while a < b, ws(u[a]) { a = u.index(after: a) }
        while b > a, ws(u[u.index(before: b)]) { b = u.index(before: b) }
        return Substring(u[a..<b])
    }
}

/// Splits on `separator` outside double quotes and angle brackets, the way SIP list values and parameters nest.
func splitOutsideQuotes(_ text: Substring, separator: Character) -> [Substring] {
    guard let sep = separator.asciiValue else { return [text] }
    var parts: [Substring] = []
    var rest = text
    while true {
        guard let i = firstOutsideQuotes(rest, sep) else { break }
        parts.append(rest[..<i])
        rest = rest[rest.utf8.index(after: i)...]
    }
    parts.append(rest)
    return parts
}

/// The first `separator` byte outside double quotes and angle brackets.
func firstOutsideQuotes(_ text: Substring, _ separator: UInt8) -> Substring.Index? {
    // On UTF-8 bytes, not Characters: every delimiter here is ASCII, and a byte of a multi-byte character
    // (0x80 and up) never equals one, so the split points are the same at a fraction of the cost (Character
    // iteration runs grapheme breaking on every step, and this runs for every name-addr and URI read).
    UserPartScan.offsetIndex(in: text) { firstOutsideQuotes($0, separator, 0, $0.count) }
}

/// `firstOutsideQuotes` over `b[from..<to]`, as an offset into `b`.
func firstOutsideQuotes(_ b: UnsafeBufferPointer<UInt8>, _ separator: UInt8, _ from: Int, _ to: Int) -> Int? {
    // Most values have no quote or angle bracket before the separator, and then the first separator memchr finds
    // is the answer: the byte loop below cost about 15 instructions a byte, and `topVia` alone runs this about ten
    // times per call. A stray `>` changes nothing in the loop either (the nesting depth stays at 0).
    if from < to, let base = b.baseAddress, separator != 0x22, separator != 0x3C, separator != 0x3E {
        let start = UnsafeRawPointer(base + from)
        let sep = memchr(start, Int32(separator), to - from).map { from + start.distance(to: $0) } ?? to
        if memchr(start, 0x22, sep - from) == nil, memchr(start, 0x3C, sep - from) == nil {
            return sep == to ? nil : sep
        }
    }
    return firstOutsideQuotesByByte(b, separator, from, to)
}

/// `firstOutsideQuotes` byte by byte, tracking quotes, escapes in them and the nesting of angle brackets.
func firstOutsideQuotesByByte(_ b: UnsafeBufferPointer<UInt8>, _ separator: UInt8, _ from: Int, _ to: Int) -> Int? {
    var inQuotes = false
    var angle = 0
    var i = from
    while i < to {
        let c = b[i]
        if inQuotes {
            if c == 0x5C {
                i += 1
                if i == to { break }
            } else if c == 0x22 {
                inQuotes = false
            }
        } else if c == 0x22 {
            inQuotes = true
        } else if c == 0x3C {
            angle += 1
        } else if c == 0x3E {
            angle = Swift.max(0, angle - 1)
        } else if c == separator && angle == 0 {
            return i
        }
        i += 1
    }
    return nil
}
