import PluginAPI

/// The shape RFC 3261 section 25.1 gives From and To: `name-addr` or `addr-spec`, then only `;name[=value]` header
/// parameters whose names are tokens. libosip2 accepts more (`From: 823 <sip:u@h>=token` parses), and what it accepts
/// on the way in it may refuse on the way back: the B leg's From was written with a parameter of an empty name,
/// the target echoed it in its 200, osip refused that 200, and the call hung until the caller cancelled. A request
/// whose From or To is outside the grammar is therefore answered 400 at the edge, before anything is built from it.
enum AddressGrammar {
    /// Nil when `value` is well-formed; otherwise what is wrong, for the 400's reason and the log.
    /// The URI itself is libosip2's to judge (it parsed From and To before this runs); this checks what is around it.
    package static func problem(in value: String) -> String? {
        func check(_ b: UnsafeBufferPointer<UInt8>) -> String? { isPlain(b) ? nil : problem(b) }
        return value.utf8.withContiguousStorageIfAvailable(check) ?? Array(value.utf8).withUnsafeBufferPointer(check)
    }

    /// The shape nearly every From and To has, `<URI>` then nothing or `;tag=token`, recognised in one pass without
    /// the parameter walk (this runs for every request received).
    private static func isPlain(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var lt = 0
        // A quoted display name without escapes may come first: `"Anna Schmidt" <sip:...>`.
        if b.first == UInt8(ascii: "\""), let close = ByteScan.first(UInt8(ascii: "\""), in: b, 1, b.count),
            ByteScan.first(UInt8(ascii: "\\"), in: b, 1, close) == nil
        {
            lt = close + 1
            while lt < b.count, b[lt] == 0x20 { lt += 1 }
        }
        guard lt < b.count, b[lt] == UInt8(ascii: "<"),
            let gt = ByteScan.first(UInt8(ascii: ">"), in: b, lt + 1, b.count)
        else { return false }
        var i = gt + 1
        if i == b.count { return true }
        let tag: StaticString = ";tag="
        guard b.count - i > tag.utf8CodeUnitCount else { return false }
        for k in 0..<tag.utf8CodeUnitCount where b[i + k] != tag.utf8Start[k] { return false }
        i += tag.utf8CodeUnitCount
        while i < b.count, ByteScan.isTokenByte(b[i]) { i += 1 }
        return i == b.count
    }

    private static func problem(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        let all = ByteScan.trimmed(b, 0, b.count)
        let hi = all.upperBound
        var i: Int
        if let lt = angle(b, all.lowerBound, hi) {
            let name = ByteScan.trimmed(b, all.lowerBound, lt)
            if !name.isEmpty, !isQuotedString(b, name),
                !name.allSatisfy({ ByteScan.isTokenByte(b[$0]) || b[$0] >= 0x80 || ByteScan.isSpace(b[$0]) })
            {
                return "the display name is neither a quoted string nor tokens"
            }
            guard let gt = ByteScan.first(UInt8(ascii: ">"), in: b, lt, hi) else { return "no '>' after '<'" }
            i = gt + 1
        } else {
            // addr-spec: parameters after the URI are the header's (RFC 3261 section 20.10).
            i = ByteScan.first(UInt8(ascii: ";"), in: b, all.lowerBound, hi) ?? hi
        }
        while true {
            while i < hi, ByteScan.isSpace(b[i]) { i += 1 }
            guard i < hi else { return nil }
            guard b[i] == UInt8(ascii: ";") else {
                return "'\(Character(Unicode.Scalar(b[i])))' after the address, where only ';' parameters may follow"
            }
            i += 1
            while i < hi, ByteScan.isSpace(b[i]) { i += 1 }
            let nameStart = i
            while i < hi, ByteScan.isTokenByte(b[i]) { i += 1 }
            guard i > nameStart else { return "a parameter with an empty name" }
            while i < hi, ByteScan.isSpace(b[i]) { i += 1 }
            guard i < hi, b[i] == UInt8(ascii: "=") else { continue }
            i += 1
            while i < hi, ByteScan.isSpace(b[i]) { i += 1 }
            let parameter = ByteScan.string(b, nameStart..<(nameStart + tokenLength(b, nameStart, hi)))
            if i < hi, b[i] == UInt8(ascii: "\"") {
                guard let end = quotedStringEnd(b, i, hi) else {
                    return "parameter '\(parameter)' has an unclosed quote"
                }
                i = end
            } else {
                // gen-value: a token or a host (an IPv6 reference adds brackets and colons).
                let valueStart = i
                while i < hi,
                    ByteScan.isTokenByte(b[i]) || b[i] == UInt8(ascii: "[") || b[i] == UInt8(ascii: "]")
                        || b[i] == UInt8(ascii: ":")
                {
                    i += 1
                }
                guard i > valueStart else { return "parameter '\(parameter)' has '=' but no value" }
            }
        }
    }

    private static func tokenLength(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ hi: Int) -> Int {
        var i = from
        while i < hi, ByteScan.isTokenByte(b[i]) { i += 1 }
        return i - from
    }

    /// The `<` that opens the URI, outside a quoted display name.
    private static func angle(_ b: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> Int? {
        var i = lo
        while i < hi {
            if b[i] == UInt8(ascii: "\"") {
                guard let end = quotedStringEnd(b, i, hi) else { return nil }
                i = end
                continue
            }
            if b[i] == UInt8(ascii: "<") { return i }
            i += 1
        }
        return nil
    }

    /// After the closing quote of the quoted string opening at `start` (quoted-pairs skipped), or nil.
    private static func quotedStringEnd(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ hi: Int) -> Int? {
        var i = start + 1
        while i < hi {
            if b[i] == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if b[i] == UInt8(ascii: "\"") { return i + 1 }
            i += 1
        }
        return nil
    }

    private static func isQuotedString(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        b[r.lowerBound] == UInt8(ascii: "\"") && quotedStringEnd(b, r.lowerBound, r.upperBound) == r.upperBound
    }
}
