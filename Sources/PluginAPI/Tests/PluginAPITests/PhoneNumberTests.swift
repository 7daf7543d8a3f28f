import PluginAPI
import Testing

/// Contexts shared by the suites below: a Berlin PBX site like `Examples/berlin` and a New York PBX.
enum Sites {
    static let did = ExtensionRange(first: "2000", last: "2999", didPrefix: "+4930123")
    static let munichDID = ExtensionRange(first: "4700", last: "4799", didPrefix: "+4989555")
    /// A Berlin peer that qualifies numbers itself but uses extensions (gateway-like, no outside-line code).
    static let berlin = NumberingContext(areaCode: "30", extensions: [did, munichDID])
    /// The Berlin PBX: users dial 0 for an outside line.
    static let berlinPBX = NumberingContext(areaCode: "30", accessCode: "0", extensions: [did])
    /// A German trunk: no area, no extensions.
    static let germanTrunk = NumberingContext()
    static let newYorkPBX = NumberingContext.nanp(
        areaCode: "212", accessCode: "9",
        extensions: [ExtensionRange(first: "100", last: "199", didPrefix: "+12125551")])
    /// A closed numbering plan: no national prefix, the leading 0 belongs to the number.
    static let italy = NumberingContext(countryCode: "39", nationalPrefix: "")
}

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+49301234567", "+49301234567", true),
        ("+49 (30) 123-4567", "+49301234567", true),
        ("+49.30.123/4567", "+49301234567", true),
        ("+1", "+1", true),
        ("+123456789012345", "+123456789012345", true),
        ("+1234567890123456", "+1234567890123456", false),  // 16 digits
        ("+0301234567", "+0301234567", false),  // no country code starts with 0
        ("+", "+", false),
        ("110", "110", false),
        ("030 123 45 67", "0301234567", false),  // no context: a national number is not E.164 yet
        ("*31# 030 1234", "*31#0301234", false),
        ("anonymous", "anonymous", false),
        ("Max Mustermann", "Max Mustermann", false),  // not a number: spaces kept
        ("+49 30 abc", "+49 30 abc", false),
        ("٣٤٥٦", "٣٤٥٦", false),  // Arabic-Indic digits are not SIP digits
        ("-", "-", false),
        ("", "", false),
    ])
    func asReceived(text: String, digits: String, isE164: Bool) {
        let n = PhoneNumber(asReceived: text)
        #expect(n.digits == digits)
        #expect(n.isE164 == isE164)
        #expect(n.description == digits)
    }

    @Test func e164InitIsStrict() throws {
        let n = try #require(PhoneNumber(e164: "+4930123"))
        #expect(n.digits == "+4930123")
        #expect(n.isE164)
        for bad in ["+49 30 123", "4930123", "+", "+0301234", "+1234567890123456", "+49a0", "0049301234", ""] {
            #expect(PhoneNumber(e164: bad) == nil, "\(bad)")
        }
    }

    @Test func equalSpellingsAreOneNumber() {
        let numbers: Set = [PhoneNumber(asReceived: "+49 30 1234567"), PhoneNumber(asReceived: "+49301234567")]
        #expect(numbers.count == 1)
        #expect(PhoneNumber(asReceived: "+49301234567") == PhoneNumber(e164: "+49301234567"))
    }

    @Test func nationalNumber() {
        let berlin = PhoneNumber(asReceived: "+49301234567")
        #expect(berlin.internationalDigits == "49301234567")
        #expect(berlin.nationalNumber(countryCode: "49") == "301234567")
        #expect(berlin.nationalNumber(in: Sites.berlin) == "301234567")
        #expect(berlin.isInCountry("49"))
        #expect(!berlin.isInCountry("44"))
        #expect(berlin.nationalNumber(countryCode: "1") == nil)
        #expect(berlin.nationalNumber(countryCode: "") == nil)
        #expect(PhoneNumber(asReceived: "+49").nationalNumber(countryCode: "49") == nil)
        #expect(PhoneNumber(asReceived: "110").nationalNumber(countryCode: "49") == nil)
        #expect(PhoneNumber(asReceived: "110").internationalDigits == nil)
    }
}

@Suite struct ExtensionRangeTests {
    @Test(arguments: [
        ("2000", true), ("2345", true), ("2999", true), ("1999", false), ("3000", false), ("234", false),
        ("02345", false), ("2a45", false), ("٢٣٤٥", false), ("", false),
    ])
    func contains(ext: String, expected: Bool) {
        #expect(Sites.did.contains(extension: ext) == expected)
    }

    @Test func rangeWithEndsOfDifferentLengthHoldsNothing() {
        let r = ExtensionRange(first: "100", last: "2999", didPrefix: "+4930123")
        #expect(!r.contains(extension: "150"))
        #expect(!r.contains(extension: "2000"))
    }

    @Test func mapsBothWays() throws {
        #expect(Sites.did.number(forExtension: "2345") == PhoneNumber(e164: "+49301232345"))
        #expect(Sites.did.number(forExtension: "3456") == nil)
        #expect(Sites.did.extensionNumber(for: PhoneNumber(asReceived: "+49301232345")) == "2345")
        #expect(Sites.did.extensionNumber(for: PhoneNumber(asReceived: "+49301231999")) == nil)
        #expect(Sites.did.extensionNumber(for: PhoneNumber(asReceived: "+493012323456")) == nil)  // one digit more
        #expect(Sites.did.extensionNumber(for: PhoneNumber(asReceived: "+49401232345")) == nil)  // other prefix
        #expect(Sites.did.extensionNumber(for: PhoneNumber(asReceived: "2345")) == nil)  // not E.164
        #expect(Sites.did.description == "2000-2999 -> +4930123")
    }

    @Test func didLongerThanE164IsNoNumber() {
        let r = ExtensionRange(first: "100000", last: "199999", didPrefix: "+4930123456")
        #expect(r.number(forExtension: "123456") == nil)
    }

    @Test func firstMatchingBlockWins() {
        let ctx = NumberingContext(extensions: [
            ExtensionRange(first: "200", last: "299", didPrefix: "+4930111"),
            ExtensionRange(first: "250", last: "259", didPrefix: "+4930222"),
        ])
        #expect(ctx.didNumber(forExtension: "255")?.digits == "+4930111255")
        #expect(ctx.extensionNumber(for: PhoneNumber(asReceived: "+4930222255")) == "255")
    }
}

@Suite struct NumberingContextTests {
    @Test func defaultsAreGerman() {
        let ctx = NumberingContext()
        #expect(ctx.countryCode == "49")
        #expect(ctx.areaCode == nil)
        #expect(ctx.nationalPrefix == "0")
        #expect(ctx.internationalPrefix == "00")
        #expect(ctx.accessCode == nil)
        #expect(ctx.extensions.isEmpty)
        #expect(ctx == NumberingContext(countryCode: "49"))
        #expect(ctx != Sites.berlin)
    }

    @Test(arguments: [
        ("0301234567", "+49301234567"),
        ("030 123 45 67", "+49301234567"),
        ("(030) 1234-567", "+49301234567"),
        ("089123456", "+4989123456"),
        ("01701234567", "+491701234567"),
        ("00442079460018", "+442079460018"),
        ("0044 20 7946 0018", "+442079460018"),
        ("+44 20 7946 0018", "+442079460018"),
        ("1234567", "+49301234567"),  // local number in the area
        ("12345", "+493012345"),  // shortest plausible subscriber number
        ("2345", "+49301232345"),  // extension
        ("4711", "+49895554711"),  // extension in the second block
    ])
    func germanToHouse(dialled: String, house: String) {
        let n = Sites.berlin.toHouse(dialled)
        #expect(n.digits == house)
        #expect(n.isE164)
    }

    @Test(arguments: [
        ("110", "110"), ("112", "112"),
        ("1999", "1999"),  // four digits outside every block: too short for a subscriber number
        ("0", "0"), ("00", "00"),  // a prefix on its own
        ("0000", "0000"),  // international prefix then +00: no country code starts with 0
        ("*31#0301234567", "*31#0301234567"),
        ("anonymous", "anonymous"),
        ("Max Mustermann", "Max Mustermann"),
    ])
    func germanNotE164(dialled: String, kept: String) {
        let n = Sites.berlin.toHouse(dialled)
        #expect(n.digits == kept)
        #expect(!n.isE164)
    }

    @Test func withoutAreaCodeBareNumbersStayAsDialled() {
        #expect(Sites.germanTrunk.toHouse("1234567") == PhoneNumber(asReceived: "1234567"))
        #expect(!Sites.germanTrunk.toHouse("1234567").isE164)
        #expect(Sites.germanTrunk.toHouse("0301234567").digits == "+49301234567")
        #expect(Sites.germanTrunk.toHouse("2345").digits == "2345")  // no extensions here
    }

    @Test func minimumSubscriberLengthIsAdjustable() {
        var ctx = Sites.germanTrunk
        ctx.areaCode = "9876"
        #expect(ctx.toHouse("1234").digits == "1234")
        ctx.minimumSubscriberLength = 3
        #expect(ctx.toHouse("1234").digits == "+4998761234")
    }

    /// The dry-run numbers of `Examples/berlin/routes.yaml`, from the PBX side.
    @Test(arguments: [
        ("0030987654", "+4930987654"),
        ("0 030 987654", "+4930987654"),
        ("0089123456", "+4989123456"),
        ("001701234567", "+491701234567"),
        ("0004420794600", "+4420794600"),
        ("009001234567", "+499001234567"),
        ("00800123456", "+49800123456"),
        ("01234567", "+49301234567"),  // outside line, then a local number
        ("2345", "+49301232345"),  // extensions need no outside line
    ])
    func accessCodeIsRemoved(dialled: String, house: String) {
        let n = Sites.berlinPBX.toHouse(dialled)
        #expect(n.digits == house)
        #expect(n.isE164)
    }

    @Test(arguments: [("0110", "110"), ("0112", "112"), ("0123", "123"), ("110", "110"), ("0", "0"), ("00", "0")])
    func accessCodeIsRemovedFromShortCodesToo(dialled: String, kept: String) {
        let n = Sites.berlinPBX.toHouse(dialled)
        #expect(n.digits == kept)
        #expect(!n.isE164)
    }

    @Test(arguments: [
        ("9 1 212 555 1234", "+12125551234"),
        ("9 1 (212) 555-1234", "+12125551234"),
        ("9011 44 20 7946 0018", "+442079460018"),
        ("9 555 1234", "+12125551234"),  // seven-digit local dialling
        ("9 718 555 1234", "+17185551234"),  // ten-digit dialling without the 1
        ("1 718 555 1234", "+17185551234"),  // without the outside line
        ("150", "+12125551150"),  // extension
        ("+1 212 555 1234", "+12125551234"),
    ])
    func nanpToHouse(dialled: String, house: String) {
        let n = Sites.newYorkPBX.toHouse(dialled)
        #expect(n.digits == house)
        #expect(n.isE164)
    }

    @Test(arguments: [
        ("911", "911"),  // must not lose its 9 to the access code
        ("9911", "911"),
        ("988", "988"),
        ("411", "411"),
        ("9411", "411"),
        ("9 1 555 1234", "15551234"),  // national prefix, but not ten digits
        ("9 55 1234", "551234"),  // neither seven nor ten digits
        ("250", "250"),  // outside the block
    ])
    func nanpNotE164(dialled: String, kept: String) {
        let n = Sites.newYorkPBX.toHouse(dialled)
        #expect(n.digits == kept)
        #expect(!n.isE164)
    }

    @Test func nanpWithoutAreaCodeTakesTenDigitsOnly() {
        let trunk = NumberingContext.nanp()
        #expect(trunk.toHouse("2125551234").digits == "+12125551234")
        #expect(!trunk.toHouse("5551234").isE164)
        #expect(trunk.countryCode == "1")
        #expect(trunk.nationalPrefix == "1")
        #expect(trunk.internationalPrefix == "011")
    }

    @Test func closedNumberingPlan() {
        #expect(Sites.italy.toHouse("06 1234 5678").digits == "+390612345678")
        #expect(Sites.italy.toHouse("0044 20 7946 0018").digits == "+442079460018")
        #expect(!Sites.italy.toHouse("112").isE164)
        #expect(Sites.italy.fromHouse(PhoneNumber(asReceived: "+390612345678"), format: .national) == "0612345678")
    }

    // MARK: - House -> peer

    @Test(arguments: [
        // In the area.
        ("+49301234567", NumberFormat.e164, "+49301234567"),
        ("+49301234567", .international, "0049301234567"),
        ("+49301234567", .national, "0301234567"),
        ("+49301234567", .local, "1234567"),
        ("+49301234567", .extensionOrNational, "0301234567"),
        // Same country, another area.
        ("+4989123456", .e164, "+4989123456"),
        ("+4989123456", .international, "004989123456"),
        ("+4989123456", .national, "089123456"),
        ("+4989123456", .local, "089123456"),
        ("+4989123456", .extensionOrNational, "089123456"),
        // Another country.
        ("+442079460018", .e164, "+442079460018"),
        ("+442079460018", .international, "00442079460018"),
        ("+442079460018", .national, "00442079460018"),
        ("+442079460018", .local, "00442079460018"),
        ("+442079460018", .extensionOrNational, "00442079460018"),
        // Inside and just outside a DID block.
        ("+49301232345", .extensionOrNational, "2345"),
        ("+49301232345", .national, "0301232345"),
        ("+49301232345", .local, "1232345"),
        ("+49895554711", .extensionOrNational, "4711"),
        ("+49301239999", .extensionOrNational, "0301239999"),
        ("+4930123", .local, "123"),
        ("+4930", .local, "030"),  // the area code alone has no subscriber number
    ])
    func germanFromHouse(house: String, format: NumberFormat, peer: String) throws {
        let n = try #require(PhoneNumber(e164: house))
        #expect(Sites.berlin.fromHouse(n, format: format) == peer)
        // No access code configured: asking for it changes nothing.
        #expect(Sites.berlin.fromHouse(n, format: format, withAccessCode: true) == peer)
    }

    @Test(arguments: [
        ("+49301234567", NumberFormat.e164, "+49301234567"),
        ("+49301234567", .international, "00049301234567"),
        ("+49301234567", .national, "00301234567"),
        ("+49301234567", .local, "01234567"),
        ("+49301234567", .extensionOrNational, "00301234567"),
        ("+4940123456", .national, "0040123456"),
        ("+4940123456", .extensionOrNational, "0040123456"),
        ("+442079460018", .national, "000442079460018"),
        ("+49301232345", .extensionOrNational, "2345"),  // an extension never gets the outside line
        ("+49301232345", .national, "00301232345"),
    ])
    func accessCodeOnTheWayOut(house: String, format: NumberFormat, peer: String) throws {
        let n = try #require(PhoneNumber(e164: house))
        #expect(Sites.berlinPBX.fromHouse(n, format: format, withAccessCode: true) == peer)
        if format != .extensionOrNational && format != .e164 {
            #expect(Sites.berlinPBX.fromHouse(n, format: format) == String(peer.dropFirst()))
        }
    }

    @Test(arguments: NumberFormat.allCases)
    func notE164IsUnchanged(format: NumberFormat) {
        for text in ["anonymous", "110", "*31#", "Max Mustermann"] {
            let n = Sites.berlinPBX.toHouse(text)
            #expect(Sites.berlinPBX.fromHouse(n, format: format) == text)
            #expect(Sites.berlinPBX.fromHouse(n, format: format, withAccessCode: true) == text)
        }
    }

    @Test(arguments: [
        ("+12125551234", NumberFormat.e164, false, "+12125551234"),
        ("+12125551234", .international, false, "01112125551234"),
        ("+12125551234", .national, false, "12125551234"),
        ("+12125551234", .local, false, "5551234"),
        ("+12125551234", .extensionOrNational, false, "12125551234"),
        ("+17185551234", .local, false, "17185551234"),
        ("+442079460018", .national, false, "011442079460018"),
        ("+12125551150", .extensionOrNational, false, "150"),
        ("+12125551150", .extensionOrNational, true, "150"),
        ("+12125551234", .national, true, "912125551234"),
        ("+12125551234", .local, true, "95551234"),
        ("+442079460018", .international, true, "9011442079460018"),
    ])
    func nanpFromHouse(house: String, format: NumberFormat, withAccessCode: Bool, peer: String) throws {
        let n = try #require(PhoneNumber(e164: house))
        #expect(Sites.newYorkPBX.fromHouse(n, format: format, withAccessCode: withAccessCode) == peer)
    }

    /// What a peer is sent in any format, with or without its access code, must come back as the same number.
    @Test(arguments: [Sites.berlin, Sites.berlinPBX, Sites.newYorkPBX, Sites.italy])
    func roundTrip(ctx: NumberingContext) throws {
        let numbers = [
            "+49301234567", "+4989123456", "+49301232345", "+442079460018", "+12125551234", "+17185551234",
            "+12125551150", "+390612345678",
        ]
        for text in numbers {
            let n = try #require(PhoneNumber(e164: text))
            for format in NumberFormat.allCases {
                let withAccess = ctx.accessCode != nil
                let peer = ctx.fromHouse(n, format: format, withAccessCode: withAccess)
                #expect(ctx.toHouse(peer) == n, "\(text) as \(format): '\(peer)' came back as \(ctx.toHouse(peer))")
            }
        }
    }

    /// `Examples/berlin/routes.yaml`: a PBX caller and callee translated for the gateway (national) and the
    /// trunk (E.164), and calls from outside shown on the PBX (extension for the callee, national with the outside
    /// line for the caller).
    @Test func berlinExample() {
        let gateway = NumberingContext(areaCode: "30")
        let callee = Sites.berlinPBX.toHouse("0030987654")
        let caller = Sites.berlinPBX.toHouse("2345")
        #expect(gateway.fromHouse(callee, format: .national) == "030987654")
        #expect(Sites.germanTrunk.fromHouse(callee, format: .e164) == "+4930987654")
        #expect(gateway.fromHouse(caller, format: .national) == "0301232345")
        #expect(Sites.germanTrunk.fromHouse(caller, format: .e164) == "+49301232345")
        #expect(gateway.fromHouse(Sites.berlinPBX.toHouse("0110"), format: .national) == "110")

        let inbound = Sites.germanTrunk.toHouse("+49301232345")
        #expect(Sites.berlinPBX.fromHouse(inbound, format: .extensionOrNational) == "2345")
        let outsideCaller = Sites.germanTrunk.toHouse("+4940123456")
        #expect(Sites.berlinPBX.fromHouse(outsideCaller, format: .national, withAccessCode: true) == "0040123456")
        let gatewayCaller = gateway.toHouse("0891234567")
        #expect(Sites.berlinPBX.fromHouse(gatewayCaller, format: .national, withAccessCode: true) == "00891234567")
        #expect(gateway.toHouse("0301232001").digits == "+49301232001")
    }

    @Test func formatRawValuesAreTheYAMLSpellings() {
        #expect(NumberFormat.allCases.map(\.rawValue) == ["e164", "international", "national", "local", "extension"])
        #expect(NumberFormat(rawValue: "extension") == .extensionOrNational)
        #expect(NumberFormat(rawValue: "E164") == nil)
    }
}
