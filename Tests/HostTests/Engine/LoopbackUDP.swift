import Foundation

@testable import Routing
@testable import SIPCore

/// A raw UDP socket on 127.0.0.1 for tests that send what no SIP tool would (torture messages, garbage) and read
/// back exactly what Patchbay answered. Closed by `close()` or at deinit.
final class LoopbackUDP {
    let fd: Int32
    let port: UInt16

    init(port: UInt16 = 0) throws {
        let (fd, bound) = try SippPorts.bindUDP(port: port)
        self.fd = fd
        self.port = bound
    }

    deinit { close() }

    func close() { _ = Glibc.close(fd) }

    func send(_ bytes: [UInt8], to port: UInt16) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The next datagram, or nil when none comes within `timeout`.
    func receive(timeout: Duration) -> [UInt8]? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&p, 1, ms) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer[0..<n]) : nil
    }

    /// Every datagram arriving within `window`.
    func receiveAll(for window: Duration) -> [[UInt8]] {
        var out: [[UInt8]] = []
        let deadline = ContinuousClock.now + window
        while case let left = deadline - ContinuousClock.now, left > .zero, let d = receive(timeout: left) {
            out.append(d)
        }
        return out
    }
}
