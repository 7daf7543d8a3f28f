/// Finds the user part of a URI, or of the URI in a name-addr value, on the raw UTF-8 bytes: what number
/// translation and routing read from every Request-URI, To, From and identity header. It follows `SIPURI` and
/// `NameAddress` parsing step for step (the differential tests in NumberTranslationTests hold it to them) and
/// answers nil wherever they would fail. Bytes and offsets, not Substring indices: index arithmetic on Substrings
/// validates every step and made this scan cost as much as the number rules it feeds.
enum UserPartScan {
    /// `NameAddress.userRange(in:)`.
    static func inNameAddress(_ text: Substring) -> Range<Substring.Index>? {
        scan(text) { b in
            let (lo, hi) = trimmed(b, 0, b.count)
            if hi - lo == 1, b[lo] == UInt8(ascii: "*") { return nil }
            if let lt = angle(b, lo, hi) {
                guard let gt = first(b, UInt8(ascii: ">"), lt, hi) else { return nil }
                return inURI(b, lt + 1, gt)
            }
            return inURI(b, lo, firstOutsideQuotes(b, UInt8(ascii: ";"), lo, hi) ?? hi)
        }
    }

    /// `SIPURI.userRange(in:)`.
    static func inURI(_ text: Substring) -> Range<Substring.Index>? {
        scan(text) { b in inURI(b, 0, b.count) }
    }

    /// `body`'s answer, a range of offsets into `text`'s bytes, as a range of indices of `text`.
    private static func scan(
        _ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> Range<Int>?
    ) -> Range<Substring.Index>? {
        guard let found = withBytes(of: text, body) else { return nil }
        let u = text.utf8
        let lower = u.index(u.startIndex, offsetBy: found.lowerBound)
        return lower..<u.index(lower, offsetBy: found.count)
    }

    /// `body`'s answer, an offset into `text`'s bytes, as an index of `text`.
    static func offsetIndex(in text: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> Int?) -> Substring.Index? {
        let u = text.utf8
        return withBytes(of: text, body).map { u.index(u.startIndex, offsetBy: $0) }
    }

    /// `text`'s UTF-8 bytes in place (a copy only for a string without contiguous storage, such as a bridged one).
    static func withBytes<R>(of text: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        text.utf8.withContiguousStorageIfAvailable(body) ?? Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// `b[from..<to]` as a String. The bytes come from a String and are cut at ASCII delimiters only, so they are
    /// valid UTF-8.
    static func string(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self)
    }

    /// As `SIPURI.init(parsing:)`: scheme, `?headers` cut off, `tel:` number up to `;`, otherwise the user before
    /// the last `@` (up to a `:` password), with a host that is not empty and a port, if any, of 0...65535.
    private static func inURI(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Range<Int>? {
        let (lo, hi) = trimmed(b, from, to)
        guard let colon = first(b, UInt8(ascii: ":"), lo, hi), colon > lo else { return nil }
        for i in lo..<colon where !SIPURI.isSchemeByte(b[i]) { return nil }
        let restStart = colon + 1
        let restEnd = first(b, UInt8(ascii: "?"), restStart, hi) ?? hi
        if colon - lo == 3, asciiLower(b[lo]) == 0x74, asciiLower(b[lo + 1]) == 0x65, asciiLower(b[lo + 2]) == 0x6C {
            return restStart..<(firstOutsideQuotes(b, UInt8(ascii: ";"), restStart, restEnd) ?? restEnd)
        }
        guard let at = last(b, UInt8(ascii: "@"), restStart, restEnd) else { return nil }
        let user = restStart..<(first(b, UInt8(ascii: ":"), restStart, at) ?? at)
        let hostStart = at + 1
        let hostEnd = first(b, UInt8(ascii: ";"), hostStart, restEnd) ?? restEnd
        if hostStart < hostEnd, b[hostStart] == UInt8(ascii: "["),
            first(b, UInt8(ascii: "]"), hostStart, hostEnd) != nil
        {
            return user
        }
        if let pc = last(b, UInt8(ascii: ":"), hostStart, hostEnd) {
            return pc > hostStart && isPort(b, pc + 1, hostEnd) ? user : nil
        }
        return hostEnd > hostStart ? user : nil
    }

    /// `Int(text)` in 0...65535, as `SIPURI.parse` checks a port.
    private static func isPort(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        integer(b, from, to).map { (0...65535).contains($0) } ?? false
    }

    /// `Int(text)` of `b[from..<to]`: an optional sign, then at least one digit, nil on overflow.
    static func integer(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var i = from
        var negative = false
        if i < to, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            negative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < to else { return nil }
        var value = 0
        while i < to {
            guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
            let digit = Int(b[i] - 0x30)
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) =
                negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
            i += 1
        }
        return value
    }

    /// `trimmingSIPWhitespace()`: space, tab, CR and LF at both ends.
    static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> (Int, Int) {
        func ws(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
        var lo = from
        var hi = to
        while lo < hi, ws(b[lo]) { lo += 1 }
        while hi > lo, ws(b[hi - 1]) { hi -= 1 }
        return (lo, hi)
    }

    static func first(_ b: UnsafeBufferPointer<UInt8>, _ c: UInt8, _ from: Int, _ to: Int) -> Int? {
        var i = from
        while i < to {
            if b[i] == c { return i }
            i += 1
        }
        return nil
    }

    static func last(_ b: UnsafeBufferPointer<UInt8>, _ c: UInt8, _ from: Int, _ to: Int) -> Int? {
        var i = to
        while i > from {
            i -= 1
            if b[i] == c { return i }
        }
        return nil
    }

    /// The `<` that opens a name-addr's URI, outside a quoted display name (`NameAddress.indexOfAngle`).
    static func angle(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var inQuotes = false
        var i = from
        while i < to {
            let c = b[i]
            if inQuotes, c == 0x5C {
                i += 1
                if i == to { return nil }
            } else if c == 0x22 {
                inQuotes.toggle()
            } else if c == 0x3C, !inQuotes {
                return i
            }
            i += 1
        }
        return nil
    }
}
