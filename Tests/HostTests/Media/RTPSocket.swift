import Foundation

/// A media endpoint a test plays itself: a UDP socket on one loopback address that sends RTP packets and says
/// where the ones it received came from and which payload type they carried.
final class RTPSocket {
    struct Packet: Equatable {
        var source: String
        var sourcePort: Int
        var payloadType: UInt8
        var size: Int
        /// The first byte after the 12-byte header: a telephone-event's event code (RFC 4733).
        var firstPayloadByte: UInt8
        var payload: [UInt8]
    }

    let host: String
    let port: Int
    private let fd: Int32

    init(host: String) throws {
        self.host = host
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else { throw PatchbayTestError("cannot bind a UDP socket on \(host): \(errno)") }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// One 20 ms RTP packet (RFC 3550 header, 160 bytes of `fill`).
    func send(
        payloadType: UInt8, sequence: UInt16, to host: String, port: Int, fill: UInt8 = 0xD5, payload: [UInt8]? = nil
    ) {
        var packet: [UInt8] = [0x80, payloadType, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        let timestamp = UInt32(sequence) * 160
        packet += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
        packet += withUnsafeBytes(of: UInt32(0x1234_5678).bigEndian, Array.init)
        packet += payload ?? [UInt8](repeating: fill, count: 160)
        send(packet, to: host, port: port)
    }

    /// One RFC 4733 telephone-event packet: `event` (0-15 for DTMF), the event's start `timestamp`, how long it
    /// has lasted so far, and whether this is one of its end packets.
    func sendEvent(
        _ event: UInt8, payloadType: UInt8, sequence: UInt16, timestamp: UInt32, duration: UInt16, end: Bool,
        first: Bool, to host: String, port: Int
    ) {
        var packet: [UInt8] = [0x80, payloadType | (first ? 0x80 : 0), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        packet += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
        packet += withUnsafeBytes(of: UInt32(0x1234_5678).bigEndian, Array.init)
        packet += [event, (end ? 0x80 : 0) | 10, UInt8(duration >> 8), UInt8(duration & 0xFF)]
        send(packet, to: host, port: port)
    }

    private func send(_ packet: [UInt8], to host: String, port: Int) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = UInt16(port).bigEndian
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// What arrived since the last call (waiting up to 20 ms for the first).
    func received() -> [Packet] {
        var packets: [Packet] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            var from = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, &buffer, buffer.count, 0, $0, &length)
                }
            }
            guard n >= 12 else { return packets }
            packets.append(
                Packet(
                    source: String(cString: inet_ntoa(from.sin_addr)),
                    sourcePort: Int(UInt16(bigEndian: from.sin_port)),
                    payloadType: buffer[1] & 0x7F, size: n, firstPayloadByte: n > 12 ? buffer[12] : 0,
                    payload: Array(buffer[12..<n])))
        }
    }
}
