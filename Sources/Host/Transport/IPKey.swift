import NIOCore

/// A source IP as two integers: a dictionary key that costs no String per datagram (classification and rate
/// limiting look one up for every message). IPv4 is kept as an IPv4-mapped IPv6 address.
struct IPKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a):
            high = 0
            low = 0x0000_FFFF_0000_0000 | UInt64(UInt32(bigEndian: a.address.sin_addr.s_addr))
        case .v6(let a):
            var addr = a.address.sin6_addr
            (high, low) = withUnsafeBytes(of: &addr) { raw in
                (
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
        default:
            return nil
        }
    }
}

/// An IP and port, for peers told apart by the port they send from.
struct IPPortKey: Hashable, Sendable {
    let ip: IPKey
    let port: Int
}
