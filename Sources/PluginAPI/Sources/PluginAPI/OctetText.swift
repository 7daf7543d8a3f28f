#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Header text that keeps every octet it was received with.
///
/// SIP header values are octets: RFC 3261 lets a Call-ID, a tag or a branch carry any byte a `word` allows, and UTF-8
/// is only what display names and reason phrases should be. Swift Strings hold Unicode, and decoding with
/// `String(decoding:as:)` turned every invalid byte into U+FFFD, so a response echoed a different Call-ID than the
/// request had (RFC 3261 section 8.2.6.2 wants the same bytes) and two Call-IDs that differed only in such bytes
/// became one key.
///
/// The model therefore decodes each octet that is not part of valid UTF-8 into a code point of its own in the last
/// private-use plane (U+10FF80 to U+10FFFF for 0x80 to 0xFF), and `serialize` writes those back as the single
/// octets they stand for. A genuine U+10FF80-U+10FFFF in the input (valid UTF-8, but never meaningful in SIP) is
/// escaped byte by byte the same way, so decoding is one-to-one: equal Strings (compared as UTF-8, see
/// `OctetText.equal`) are equal octets, and every received header value is sent again exactly as received.
public enum OctetText {
    /// The first code point of the escape range; octet `b` (0x80...0xFF) is `escapeBase + b - 0x80`.
    static let escapeBase: UInt32 = 0x10FF80

    /// The code point that stands for octet `byte` (0x80 and up).
    static func escaped(_ byte: UInt8) -> Unicode.Scalar { Unicode.Scalar(escapeBase + UInt32(byte) - 0x80)! }

    /// The octet an escape code point (`escapeBase` and up) stands for.
    static func octet(escapedBy scalar: Unicode.Scalar) -> UInt8 { UInt8(scalar.value - escapeBase + 0x80) }

    /// The octets as text: valid UTF-8 as it is, any other octet escaped.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        // Nearly every header value is ASCII, and then the standard decoding is exact and fastest.
        if isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return decodeEscaping(bytes)
    }

    public static func decode(_ bytes: [UInt8]) -> String { decode(bytes[...]) }

    /// Whether every byte is below 0x80, eight at a time.
    static func isASCII(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.withUnsafeBufferPointer(isASCII) }

    static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= b.count {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < b.count {
            if b[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    private static func decodeEscaping(_ bytes: ArraySlice<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        let b = Array(bytes)
        var i = 0
        func escape(_ byte: UInt8) { scalars.append(escaped(byte)) }
        while i < b.count {
            let c = b[i]
            if c < 0x80 {
                scalars.append(Unicode.Scalar(c))
                i += 1
                continue
            }
            guard let (scalar, length) = validSequence(b, i) else {
                escape(c)
                i += 1
                continue
            }
            if scalar.value >= escapeBase {
                // A real code point of the escape range: its octets are escaped, so it cannot be mistaken for one.
                for k in i..<(i + length) { escape(b[k]) }
            } else {
                scalars.append(scalar)
            }
            i += length
        }
        return String(scalars)
    }

    /// The well-formed UTF-8 sequence at `i` (RFC 3629: shortest form, no surrogates, at most U+10FFFF).
    private static func validSequence(_ b: [UInt8], _ i: Int) -> (Unicode.Scalar, Int)? {
        let c = b[i]
        let length: Int
        var value: UInt32
        switch c {
        case 0xC2...0xDF: (length, value) = (2, UInt32(c & 0x1F))
        case 0xE0...0xEF: (length, value) = (3, UInt32(c & 0x0F))
        case 0xF0...0xF4: (length, value) = (4, UInt32(c & 0x07))
        default: return nil
        }
        guard i + length <= b.count else { return nil }
        for k in 1..<length {
            let d = b[i + k]
            guard d & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(d & 0x3F)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    /// Whether `text` holds any escaped octet. Its UTF-8 then has the lead byte 0xF4 (found with memchr), which
    /// only code points from U+100000 up have: a plain header value says no in one call.
    public static func hasEscapes(_ text: String) -> Bool {
        let found = text.utf8.withContiguousStorageIfAvailable { b -> Bool in
            guard let base = b.baseAddress, b.count >= 4 else { return false }
            return memchr(base, 0xF4, b.count) != nil
        }
        if let found, !found { return false }
        return text.unicodeScalars.contains { $0.value >= escapeBase }
    }

    /// The octets `text` stands for: its UTF-8, with each escaped octet written as the octet.
    public static func octets(_ text: String) -> [UInt8] {
        guard hasEscapes(text) else { return Array(text.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        write(text, text: { out.append(contentsOf: $0.utf8) }, octets: { out.append(contentsOf: $0) })
        return out
    }

    /// Writes `text` as its octets: runs of ordinary text through `text`, escaped octets through `octets`.
    static func write(_ text: String, text writeText: (String) -> Void, octets writeOctets: ([UInt8]) -> Void) {
        var run = String.UnicodeScalarView()
        var raw: [UInt8] = []
        for scalar in text.unicodeScalars {
            if scalar.value >= escapeBase {
                if !run.isEmpty {
                    writeText(String(run))
                    run = String.UnicodeScalarView()
                }
                raw.append(octet(escapedBy: scalar))
            } else {
                if !raw.isEmpty {
                    writeOctets(raw)
                    raw = []
                }
                run.append(scalar)
            }
        }
        if !run.isEmpty { writeText(String(run)) }
        if !raw.isEmpty { writeOctets(raw) }
    }

    /// Whether two texts are the same octets. Swift's `==` on Strings compares by Unicode canonical equivalence, so
    /// two Call-IDs that differ only in how an accented letter is composed would be one; protocol tokens (Call-ID,
    /// tags, branch) compare as octets.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        let lent = x.withContiguousStorageIfAvailable { p in
            y.withContiguousStorageIfAvailable { q in
                p.count == 0 || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0
            }
        }
        if let lent, let equal = lent { return equal }
        return x.elementsEqual(y)
    }
}

extension OctetText {
    /// `text` with every octet from 0x80 up written as its escape code point, valid UTF-8 included; ASCII text is
    /// returned as it is, after one look at its bytes.
    static func escapingNonASCII(_ text: String) -> String {
        let ascii = text.utf8.withContiguousStorageIfAvailable(isASCII)
        if ascii ?? text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        var scalars = String.UnicodeScalarView()
        for b in octets(text) {
            scalars.append(b < 0x80 ? Unicode.Scalar(b) : escaped(b))
        }
        return String(scalars)
    }
}
