/// A CIDR range (`203.0.113.0/24`, `2001:db8::/32`) of source addresses, as carriers publish their signalling
/// addresses. IPv4 ranges are kept in the IPv4-mapped IPv6 space, as `IPKey` keeps IPv4 addresses, so one
/// comparison serves both families.
package struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    private let high: UInt64
    private let low: UInt64
    /// Leading bits that must match, in the 128-bit space (an IPv4 /24 is 120).
    package let prefixLength: Int
    package let description: String

    /// `text` as ADDRESS/PREFIX, or nil. Host bits set below the prefix are cleared (`10.1.2.3/8` is 10.0.0.0/8).
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IPKey(text: parts[0]), let bits = Int(parts[1]) else { return nil }
        let v4 = !parts[0].contains(":")
        guard bits >= 0, bits <= (v4 ? 32 : 128) else { return nil }
        prefixLength = v4 ? bits + 96 : bits
        (high, low) = Self.masked(ip, prefixLength)
        description = text
    }

    package func contains(_ ip: IPKey) -> Bool {
        let (h, l) = Self.masked(ip, prefixLength)
        return h == high && l == low
    }

    private static func masked(_ ip: IPKey, _ bits: Int) -> (UInt64, UInt64) {
        let highMask: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : .max << (64 - bits))
        let lowMask: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? .max : .max << (128 - bits))
        return (ip.high & highMask, ip.low & lowMask)
    }

    package static func == (a: AddressRange, b: AddressRange) -> Bool {
        a.high == b.high && a.low == b.low && a.prefixLength == b.prefixLength
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(high)
        hasher.combine(low)
        hasher.combine(prefixLength)
    }
}
