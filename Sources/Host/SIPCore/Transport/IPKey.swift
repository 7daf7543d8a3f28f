import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A source IP as two integers: a dictionary key that costs no String per datagram (classification and rate
/// limiting look one up for every message). IPv4 is kept as an IPv4-mapped IPv6 address.
package struct IPKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    package init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a): self.init(a.address.sin_addr)
        case .v6(let a): self.init(a.address.sin6_addr)
        default: return nil
        }
    }

    /// The address `text` spells (IPv4 dotted, or IPv6 without brackets), or nil for anything else, a host name
    /// among them. `inet_pton` reads a C string, so a NUL inside would end the address early: such text is refused.
    package init?(text: Substring) {
        guard !text.utf8.contains(0) else { return nil }
        let s = String(text)
        var v4 = in_addr()
        var v6 = in6_addr()
        if s.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
            self.init(v4)
        } else if s.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 {
            self.init(v6)
        } else {
            return nil
        }
    }

    private init(_ v4: in_addr) {
        high = 0
        low = 0x0000_FFFF_0000_0000 | UInt64(UInt32(bigEndian: v4.s_addr))
    }

    private init(_ v6: in6_addr) {
        var addr = v6
        (high, low) = withUnsafeBytes(of: &addr) { raw in
            (
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }
}

/// An IP and port, for peers told apart by the port they send from (`IPKey.port(_:)` makes one).
package struct IPPortKey: Hashable, Sendable {
    let ip: IPKey
    let port: Int
}

extension IPKey {
    package func port(_ port: Int) -> IPPortKey { IPPortKey(ip: self, port: port) }
}
