/// Where a peer sits in the numbering plan: what it means by a number without `+`, and how it expects numbers
/// written. Translates between the peer's dialect and the house format (E.164 with `+`).
///
/// Prefixes and codes are digit strings without separators. The defaults describe Germany without an area;
/// `nanp(areaCode:accessCode:extensions:)` gives the North American plan.
public struct NumberingContext: Sendable, Equatable {
    /// Country calling code without `+` (`49`, `1`).
    public var countryCode: String
    /// Area code without the national prefix (`30` for Berlin). When set, a bare subscriber number is taken as
    /// local to this area.
    public var areaCode: String?
    /// Trunk prefix before a national number (`0` in most of Europe, `1` in NANP). Empty for closed numbering
    /// plans (Italy, Spain, Scandinavia), where national numbers are dialled as they are.
    public var nationalPrefix: String
    /// Prefix before an international number (`00`, `011` in NANP).
    public var internationalPrefix: String
    /// Outside-line code a PBX user dials before an external number (`0`, `9`). Removed on the way in; added on
    /// the way out only when asked for, since only PBX displays want it (so redial works).
    public var accessCode: String?
    /// DID blocks whose extensions the peer uses on their own.
    public var extensions: [ExtensionRange]
    /// Numbers that are complete as dialled and must never lose a leading access code digit: with access code 9,
    /// `911` would otherwise become `11`. Compared after removing separators, before any other step.
    public var shortCodes: Set<String>
    /// A bare number shorter than this is a short code, not a subscriber number, and is not qualified with the
    /// area code (`110` stays `110`). Ignored when `nationalNumberLength` is set.
    public var minimumSubscriberLength: Int
    /// For plans with fixed-length national numbers (10 in NANP): a bare number of this length is national,
    /// one of this length minus the area code's is local, and a number after the national prefix must have
    /// exactly this length. Nil for plans of varying length such as Germany's.
    public var nationalNumberLength: Int?

    public init(
        countryCode: String = "49", areaCode: String? = nil, nationalPrefix: String = "0",
        internationalPrefix: String = "00", accessCode: String? = nil, extensions: [ExtensionRange] = [],
        shortCodes: Set<String> = [], minimumSubscriberLength: Int = 5, nationalNumberLength: Int? = nil
    ) {
        self.countryCode = countryCode
        self.areaCode = areaCode
        self.nationalPrefix = nationalPrefix
        self.internationalPrefix = internationalPrefix
        self.accessCode = accessCode
        self.extensions = extensions
        self.shortCodes = shortCodes
        self.minimumSubscriberLength = minimumSubscriberLength
        self.nationalNumberLength = nationalNumberLength
    }

    /// The North American Numbering Plan: country 1, national prefix 1, international prefix 011, ten-digit
    /// national numbers. 911 and 988 are short codes because they start with the usual access code 9.
    public static func nanp(
        areaCode: String? = nil, accessCode: String? = nil, extensions: [ExtensionRange] = []
    ) -> NumberingContext {
        NumberingContext(
            countryCode: "1", areaCode: areaCode, nationalPrefix: "1", internationalPrefix: "011",
            accessCode: accessCode, extensions: extensions, shortCodes: ["911", "988"], nationalNumberLength: 10)
    }

    // MARK: - Peer -> house

    /// Turns a number as the peer dialled it into the house format. In order, the first step that applies wins:
    /// 1. text that is not dialable (`anonymous`) is kept verbatim; otherwise separators are removed;
    /// 2. `+...` is taken as E.164;
    /// 3. a short code is kept as it is (before extensions too, so no DID block can capture an emergency call);
    /// 4. an extension inside a DID block becomes its DID (`2345` -> `+49301232345`);
    /// 5. a leading access code is removed (if something is left), then
    /// 6. international prefix -> `+` and the rest; national prefix -> `+`, country code and the rest;
    ///    a bare subscriber number of plausible length -> `+`, country code, area code and the number.
    /// Whatever does not qualify is not E.164 and keeps its digits without the access code, because routes match
    /// what the user dialled after the outside line (`0110` from a PBX with access code 0 is `110`).
    /// The international prefix is tried before the national one since it usually starts with it (`00`, `0`).
    public func toHouse(_ dialled: String) -> PhoneNumber {
        guard let number = PhoneNumber.dialable(dialled) else { return PhoneNumber(asReceived: dialled) }
        if number.hasPrefix("+") { return PhoneNumber(asReceived: number) }
        if shortCodes.contains(number) { return PhoneNumber(unchecked: number, isE164: false) }
        if let did = didNumber(forExtension: number) { return did }
        var rest = Substring(number)
        if let access = accessCode, !access.isEmpty, rest.hasPrefix(access), rest.count > access.count {
            rest = rest.dropFirst(access.count)
        }
        return qualify(rest) ?? PhoneNumber(unchecked: String(rest), isE164: false)
    }

    private func qualify(_ number: Substring) -> PhoneNumber? {
        if !internationalPrefix.isEmpty, number.hasPrefix(internationalPrefix) {
            return PhoneNumber(e164: "+" + number.dropFirst(internationalPrefix.count))
        }
        if !nationalPrefix.isEmpty, number.hasPrefix(nationalPrefix) {
            let national = number.dropFirst(nationalPrefix.count)
            // `0` alone would otherwise become the bare country code `+49`.
            guard !national.isEmpty else { return nil }
            if let length = nationalNumberLength, national.count != length { return nil }
            return PhoneNumber(e164: "+" + countryCode + national)
        }
        guard PhoneNumber.isAllDigits(number) else { return nil }
        let area = areaCode ?? ""
        if let length = nationalNumberLength {
            if number.count == length { return PhoneNumber(e164: "+" + countryCode + number) }
            if !area.isEmpty, number.count + area.count == length {
                return PhoneNumber(e164: "+" + countryCode + area + number)
            }
            return nil
        }
        guard number.count >= minimumSubscriberLength else { return nil }
        if !area.isEmpty { return PhoneNumber(e164: "+" + countryCode + area + number) }
        // Without a national prefix every long enough number is national (closed numbering plans).
        if nationalPrefix.isEmpty { return PhoneNumber(e164: "+" + countryCode + number) }
        return nil
    }

    // MARK: - House -> peer

    /// Writes a house-format number the way the peer expects it (see `NumberFormat`). `withAccessCode` puts the
    /// access code before every dialable form except an extension, so a PBX user can call back from the call
    /// list; it is never put before an `e164` number, which a digit cannot precede. Numbers that are not E.164
    /// (`anonymous`, `110`) are returned unchanged whatever the format.
    public func fromHouse(_ number: PhoneNumber, format: NumberFormat, withAccessCode: Bool = false) -> String {
        guard number.isE164, let international = number.internationalDigits else { return number.digits }
        let dialled: String
        switch format {
        case .e164:
            return number.digits
        case .international:
            dialled = internationalPrefix + international
        case .national:
            dialled = national(number)
        case .local:
            dialled = local(number) ?? national(number)
        case .extensionOrNational:
            if let ext = extensionNumber(for: number) { return ext }
            dialled = national(number)
        }
        return withAccessCode ? (accessCode ?? "") + dialled : dialled
    }

    private func national(_ number: PhoneNumber) -> String {
        if let national = number.nationalNumber(countryCode: countryCode) { return nationalPrefix + national }
        return internationalPrefix + (number.internationalDigits ?? "")
    }

    private func local(_ number: PhoneNumber) -> String? {
        guard let area = areaCode, !area.isEmpty, let national = number.nationalNumber(countryCode: countryCode),
            national.hasPrefix(area), national.count > area.count
        else { return nil }
        return String(national.dropFirst(area.count))
    }

    // MARK: - Extensions

    /// The DID of an extension in one of the blocks (the first block that holds it wins), or nil.
    public func didNumber(forExtension ext: String) -> PhoneNumber? {
        extensions.lazy.compactMap { $0.number(forExtension: ext) }.first
    }

    /// The extension for a DID inside one of the blocks, or nil.
    public func extensionNumber(for number: PhoneNumber) -> String? {
        extensions.lazy.compactMap { $0.extensionNumber(for: number) }.first
    }
}

/// A block of extensions and the DIDs they answer to: `ExtensionRange(first: "2000", last: "2999",
/// didPrefix: "+4930123")` maps extension `2345` to `+49301232345` and back. An extension has exactly as many
/// digits as `first` and `last` and lies between them; a range whose ends differ in length holds nothing.
public struct ExtensionRange: Sendable, Hashable, CustomStringConvertible {
    public var first: String
    public var last: String
    /// E.164 with `+`; the extension's digits follow it.
    public var didPrefix: String

    public init(first: String, last: String, didPrefix: String) {
        self.first = first
        self.last = last
        self.didPrefix = didPrefix
    }

    public var description: String { "\(first)-\(last) -> \(didPrefix)" }

    public func contains<S: StringProtocol>(extension ext: S) -> Bool {
        // Equal-length ASCII digit strings compare textually in numeric order, so no Int (and no overflow for long
        // extensions) is needed.
        guard first.count == last.count, ext.count == first.count, PhoneNumber.isAllDigits(ext),
            PhoneNumber.isAllDigits(first), PhoneNumber.isAllDigits(last)
        else { return false }
        return first <= String(ext) && String(ext) <= last
    }

    public func number(forExtension ext: String) -> PhoneNumber? {
        guard contains(extension: ext) else { return nil }
        return PhoneNumber(e164: didPrefix + ext)
    }

    public func extensionNumber(for number: PhoneNumber) -> String? {
        guard number.isE164, number.digits.hasPrefix(didPrefix) else { return nil }
        let ext = number.digits.dropFirst(didPrefix.count)
        return contains(extension: ext) ? String(ext) : nil
    }
}
