/// A number in the house format: E.164 with a leading `+` when it has an E.164 form, otherwise the text as the
/// peer sent it (`anonymous`, a short code such as `110` that the peer did not qualify). Routing compares `digits`
/// textually, so every way of building one yields a single spelling for the same E.164 number.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// `+49301234567` when `isE164`, otherwise the number as received (separators removed if it is dialable).
    public let digits: String
    public let isE164: Bool

    /// Takes a number exactly as a peer wrote it, without any numbering context: `+` followed by digits is E.164,
    /// anything else is kept and marked not E.164. Visual separators are removed only when what remains is
    /// dialable, so `+49 (30) 123-4567` becomes `+49301234567` while a display name such as `Max Mustermann` or
    /// `anonymous` is kept verbatim.
    public init(asReceived text: String) {
        if let dialable = Self.dialable(text) {
            self.init(unchecked: dialable, isE164: Self.isValidE164(dialable))
        } else {
            self.init(unchecked: text, isE164: false)
        }
    }

    /// Strict: only the canonical spelling (`+` and digits, no separators) is accepted, because callers use this
    /// to validate configuration values that are later compared textually (a DID prefix, a route target).
    public init?(e164 text: String) {
        guard Self.isValidE164(text) else { return nil }
        self.init(unchecked: text, isE164: true)
    }

    /// For values the caller has already classified; `isE164` must be true only for a valid E.164 spelling.
    init(unchecked digits: String, isE164: Bool) {
        self.digits = digits
        self.isE164 = isE164
    }

    public var description: String { digits }

    /// The digits after the `+`, or nil when the number has no E.164 form.
    public var internationalDigits: Substring? {
        isE164 ? digits.dropFirst() : nil
    }

    /// True when the number is E.164 and belongs to `countryCode`. A prefix test is exact here because
    /// E.164 country codes form a prefix-free code (no country code is the start of another).
    public func isInCountry(_ countryCode: String) -> Bool {
        guard let international = internationalDigits, !countryCode.isEmpty else { return false }
        return international.hasPrefix(countryCode) && international.count > countryCode.count
    }

    /// The national significant number (`301234567` for `+49301234567` in Germany): what follows the country
    /// code, without any national prefix. Nil when the number is not E.164 or belongs to another country.
    public func nationalNumber(countryCode: String) -> String? {
        guard isInCountry(countryCode), let international = internationalDigits else { return nil }
        return String(international.dropFirst(countryCode.count))
    }

    /// `nationalNumber(countryCode:)` for the context's country.
    public func nationalNumber(in context: NumberingContext) -> String? {
        nationalNumber(countryCode: context.countryCode)
    }

    // MARK: - Spelling rules shared with NumberingContext and NumberRule

    /// Characters people and some equipment put between digit groups. RFC 3966 lists `-`, `.`, `(` and `)`; the
    /// space and the `/` of older German notation (`030/1234567`) turn up in the wild as well.
    static let visualSeparators: Set<Character> = [" ", "-", ".", "(", ")", "/"]

    /// The text without visual separators when the rest is dialable (an optional leading `+`, then one or more
    /// digits, `*` or `#`); nil when it is anything else, so callers can keep names and keywords verbatim.
    static func dialable(_ text: String) -> String? {
        // On bytes: every number of every message comes through here (twice per adapter pipeline), and filtering
        // Characters against a Set<Character> was a fifth of number translation. Every character this accepts is
        // ASCII, and any non-ASCII byte (a letter, a combining mark on a digit) makes the text not dialable, as the
        // Character rule decided too.
        let u = text.utf8
        var plus = false
        var body = 0
        var separators = 0
        for b in u {
            switch b {
            case 0x30...0x39, 0x2A, 0x23: body += 1
            case 0x2B:
                guard !plus, body == 0 else { return nil }
                plus = true
            default:
                guard isVisualSeparator(b) else { return nil }
                separators += 1
            }
        }
        guard body > 0 else { return nil }
        if separators == 0 { return text }
        return String(unsafeUninitializedCapacity: u.count - separators) { buffer in
            var i = 0
            for b in u where !isVisualSeparator(b) {
                buffer[i] = b
                i += 1
            }
            return i
        }
    }

    /// `visualSeparators` as bytes.
    private static func isVisualSeparator(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x2D || b == 0x2E || b == 0x28 || b == 0x29 || b == 0x2F
    }

    /// `+` then 1...15 ASCII digits, the first not `0` (no country code starts with 0, so `+030...` is a
    /// misdialled national number rather than something routable).
    static func isValidE164<S: StringProtocol>(_ text: S) -> Bool {
        let u = text.utf8
        guard u.first == UInt8(ascii: "+") else { return false }
        let body = u.dropFirst()
        return (1...15).contains(body.count) && body.first != UInt8(ascii: "0") && body.allSatisfy(isDigitByte)
    }

    static func isAllDigits<S: StringProtocol>(_ text: S) -> Bool {
        !text.utf8.isEmpty && text.utf8.allSatisfy(isDigitByte)
    }

    private static func isDigitByte(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// `Character.isNumber` also accepts `٣`, `½` and other non-ASCII numerals, which no SIP peer means as digits.
    static func isDigit(_ c: Character) -> Bool {
        guard let ascii = c.asciiValue else { return false }
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(ascii)
    }
}
