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
        let stripped = String(text.filter { !visualSeparators.contains($0) })
        let body = stripped.hasPrefix("+") ? stripped.dropFirst() : Substring(stripped)
        guard !body.isEmpty, body.allSatisfy({ isDigit($0) || $0 == "*" || $0 == "#" }) else { return nil }
        return stripped
    }

    /// `+` then 1...15 ASCII digits, the first not `0` (no country code starts with 0, so `+030...` is a
    /// misdialled national number rather than something routable).
    static func isValidE164<S: StringProtocol>(_ text: S) -> Bool {
        guard text.first == "+" else { return false }
        let body = text.dropFirst()
        return (1...15).contains(body.count) && body.first != "0" && body.allSatisfy(isDigit)
    }

    static func isAllDigits<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.allSatisfy(isDigit)
    }

    /// `Character.isNumber` also accepts `٣`, `½` and other non-ASCII numerals, which no SIP peer means as digits.
    static func isDigit(_ c: Character) -> Bool {
        guard let ascii = c.asciiValue else { return false }
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(ascii)
    }
}
