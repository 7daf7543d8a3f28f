import Testing

// @testable for the parsers' byte-level entry points and the scan helpers the reference below uses.
@testable import PluginAPI

/// SIPURI, NameAddress and header parameters are parsed on bytes with integer offsets. The reference below is the
/// Substring reading they replaced, kept as it was: the two must build equal values (or both fail) for every
/// spelling generated here.
@Suite struct AddressParsingTests {
    @Test func nameAddressesParseAsTheSubstringReadingDid() {
        var values = NumberTranslationTests.spellings
        values += [
            "*", " * ", "<sip:a@b>;tag=1;tag=2", "\"\" <sip:a@b>", "\"x\"<sip:a@b>", "<sip:a@b", "a <b>",
            "sip:a@b;x=\"q;r\";y", "<sip:a@b>;x = \"1;2\" ; y ;;", "\"A\\\"B\" <tel:+4930;ext=1>", "",
        ]
        var parsed = 0
        for v in values {
            let expected = Reference.nameAddress(v)
            #expect(NameAddress(v) == expected, "\(v.debugDescription)")
            if expected != nil { parsed += 1 }
        }
        #expect(parsed > 1_000 && parsed < values.count - 1_000)
    }

    @Test func urisParseAsTheSubstringReadingDid() {
        let schemes = ["sip:", "SIPS:", "tel:", "TEL:", "x-1.+:", "s p:", ":", ""]
        let users = ["", "alice@", "alice:pw@", "a;b=c@", "@", "+4930;phone-context=x@", "a:b:c@"]
        let hosts = [
            "h", "h:5060", "h:+1", "h:-0", "h:65536", "h:", "h:99999999999999999999", "[::1]", "[::1]:5",
            "[::1]:x", "[::1", "", "[::1]:9223372036854775808", "[::1]:-9223372036854775808",
            "[::1]:-9223372036854775809",
        ]
        let tails = ["", ";transport=udp", ";lr;x=\"a;b\"", "; a = 1 ;", "?h=1", ";x?y=2;z", ";user=phone?"]
        var parsed = 0
        var count = 0
        for s in schemes {
            for u in users {
                for h in hosts {
                    for t in tails {
                        for pad in ["", " \t"] {
                            let text = pad + s + u + h + t + pad
                            let expected = Reference.uri(Substring(text))
                            #expect(SIPURI(text) == expected, "\(text.debugDescription)")
                            count += 1
                            if expected != nil { parsed += 1 }
                        }
                    }
                }
            }
        }
        #expect(parsed > 1_000 && parsed < count - 1_000, "\(parsed) of \(count)")
    }

    @Test func parametersParseAsTheSubstringReadingDid() {
        let parts = ["", "a", "A=1", " b = 2 ", "c=\"x;y\"", "d=<e;f>", "=g", "h=", ";", "\t", "i=j=k"]
        for x in parts {
            for y in parts {
                for z in parts {
                    let text = Substring(x + ";" + y + ";" + z)
                    #expect([SIPParameter].parse(text) == Reference.parameters(text), "\(text.debugDescription)")
                }
            }
        }
    }
}

/// The Substring parsers as they were before the byte scans.
private enum Reference {
    static func parameters(_ text: Substring) -> [SIPParameter] {
        splitOutsideQuotes(text, separator: ";").compactMap { part -> SIPParameter? in
            let p = part.trimmingSIPWhitespace()
            guard !p.isEmpty else { return nil }
            if let eq = p.utf8.firstIndex(of: 0x3D) {
                return SIPParameter(
                    String(p[..<eq].trimmingSIPWhitespace()),
                    String(p[p.utf8.index(after: eq)...].trimmingSIPWhitespace()))
            }
            return SIPParameter(String(p), nil)
        }
    }

    static func uri(_ text: Substring) -> SIPURI? {
        let t = text.trimmingSIPWhitespace()
        guard let colon = t.utf8.firstIndex(of: 0x3A) else { return nil }
        let schemeBytes = t.utf8[..<colon]
        guard !schemeBytes.isEmpty, schemeBytes.allSatisfy({ SIPURI.isSchemeByte($0) }) else { return nil }
        var uri = SIPURI(scheme: String(t[..<colon]), host: "")
        var rest = t[t.utf8.index(after: colon)...]
        if let q = rest.utf8.firstIndex(of: 0x3F) {
            uri.headers = String(rest[rest.utf8.index(after: q)...])
            rest = rest[..<q]
        }
        if asciiEqualsIgnoringCase(uri.scheme.utf8, "tel".utf8) {
            let parts = splitOutsideQuotes(rest, separator: ";")
            uri.user = String(parts[0])
            uri.parameters = parts.count > 1 ? parameters(rest[parts[1].startIndex...]) : []
            return uri
        }
        var hostPart = rest
        if let at = rest.utf8.lastIndex(of: 0x40) {
            let userInfo = rest[..<at]
            hostPart = rest[rest.utf8.index(after: at)...]
            if let pc = userInfo.utf8.firstIndex(of: 0x3A) {
                uri.user = String(userInfo[..<pc])
                uri.password = String(userInfo[userInfo.utf8.index(after: pc)...])
            } else {
                uri.user = String(userInfo)
            }
        }
        var hostPort = hostPart
        if let semi = hostPart.utf8.firstIndex(of: 0x3B) {
            hostPort = hostPart[..<semi]
            uri.parameters = parameters(hostPart[hostPart.utf8.index(after: semi)...])
        }
        if hostPort.utf8.first == 0x5B, let close = hostPort.utf8.firstIndex(of: 0x5D) {
            let afterClose = hostPort.utf8.index(after: close)
            uri.host = String(hostPort[..<afterClose])
            let after = hostPort[afterClose...]
            uri.port = after.utf8.first == 0x3A ? Int(after[after.utf8.index(after: after.startIndex)...]) : nil
        } else if let pc = hostPort.utf8.lastIndex(of: 0x3A) {
            uri.host = String(hostPort[..<pc])
            guard let p = Int(hostPort[hostPort.utf8.index(after: pc)...]), (0...65535).contains(p) else { return nil }
            uri.port = p
        } else {
            uri.host = String(hostPort)
        }
        return uri.host.isEmpty ? nil : uri
    }

    static func nameAddress(_ text: String) -> NameAddress? {
        let t = Substring(text).trimmingSIPWhitespace()
        if t == "*" {
            var wildcard = NameAddress(uri: SIPURI(scheme: "sip", host: "*"))
            wildcard.isWildcard = true
            return wildcard
        }
        if let lt = UserPartScan.offsetIndex(in: t, { UserPartScan.angle($0, 0, $0.count) }) {
            guard let gt = t[lt...].utf8.firstIndex(of: 0x3E) else { return nil }
            let name = t[..<lt].trimmingSIPWhitespace()
            let n = name.utf8
            var displayName: String?
            if n.count >= 2, n.first == 0x22, n.last == 0x22 {
                displayName = String(name[n.index(after: n.startIndex)..<n.index(before: n.endIndex)])
            } else {
                displayName = name.isEmpty ? nil : String(name)
            }
            guard let uri = uri(t[t.utf8.index(after: lt)..<gt]) else { return nil }
            return NameAddress(
                displayName: displayName, uri: uri, parameters: parameters(t[t.utf8.index(after: gt)...]))
        }
        let parts = splitOutsideQuotes(t, separator: ";")
        guard let uri = uri(parts[0]) else { return nil }
        return NameAddress(uri: uri, parameters: parts.count > 1 ? parameters(t[parts[1].startIndex...]) : [])
    }
}

/// `NameAddress.description` and `SIPURI.description` append piece by piece; they must write what the plain
/// interpolation wrote, for every spelling the translation tests use that parses.
@Suite struct AddressWritingTests {
    /// What `SIPParameter.text` wrote before the writers stopped using it.
    static func text(_ p: SIPParameter) -> String { p.value.map { "\(p.name)=\($0)" } ?? p.name }

    static func interpolated(_ u: SIPURI) -> String {
        var s = u.scheme + ":"
        if u.isTel {
            s += u.user ?? ""
        } else {
            if let user = u.user {
                s += user
                if let password = u.password { s += ":" + password }
                s += "@"
            }
            s += u.host
            if let port = u.port { s += ":\(port)" }
        }
        for p in u.parameters { s += ";" + text(p) }
        if let headers = u.headers { s += "?" + headers }
        return s
    }

    static func interpolated(_ a: NameAddress) -> String {
        if a.isWildcard { return "*" }
        var s = ""
        if let displayName = a.displayName { s += "\"\(displayName)\" " }
        s += "<\(interpolated(a.uri))>"
        for p in a.parameters { s += ";" + text(p) }
        return s
    }

    @Test func writesWhatInterpolationWrote() {
        var written = 0
        for v in NumberTranslationTests.spellings {
            guard let a = NameAddress(v) else { continue }
            #expect(a.description == Self.interpolated(a), "\(v.debugDescription)")
            #expect(a.uri.description == Self.interpolated(a.uri), "\(v.debugDescription)")
            #expect(NameAddress(a.description) == a, "\(v.debugDescription)")
            written += 1
        }
        #expect(written > 1_000)
    }
}
