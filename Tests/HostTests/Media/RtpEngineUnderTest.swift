import Foundation
import NIOCore
import NIOPosix

@testable import Media

/// A real rtpengine (Debian rtpengine-daemon) in userspace on 127.0.0.1, started for a test and stopped by its pid:
/// an ng port and a hundred media ports of its own.
final class RtpEngineUnderTest {
    static let path = "/usr/bin/rtpengine"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    let process = Process()
    let ngPort: Int
    let log: URL
    var address: SocketAddress { try! SocketAddress(ipAddress: "127.0.0.1", port: ngPort) }

    /// `interfaces`: rtpengine's `--interface` values (`NAME/IP` for named ones).
    init(port: Int? = nil, interfaces: [String] = ["127.0.0.1"], extraArguments: [String] = []) throws {
        ngPort = try port ?? Self.freeUDPPort()
        // Below the kernel's ephemeral ports (32768 and up), where the other tests' sockets are, and above the 20000 the
        // fixtures' SDP names.
        let base = Int.random(in: 201...326) * 100
        log = FileManager.default.temporaryDirectory.appendingPathComponent("rtpengine-\(ngPort).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.path)
        process.arguments =
            [
                // Not Debian's /etc/rtpengine/rtpengine.conf: it opens CLI and HTTP ports (2224, 2225) that a second
                // rtpengine started beside this one (another test) could not have, and it would exit.
                "--config-file=none",
                "--foreground", "--table=-1", "--listen-ng=127.0.0.1:\(ngPort)",
                "--port-min=\(base)", "--port-max=\(base + 99)", "--log-stderr", "--log-level=6", "--delete-delay=0",
            ] + interfaces.map { "--interface=\($0)" } + extraArguments
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Waits until it answers ping (it binds its sockets after start-up).
    func ready(_ client: NGClient) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let answer = try? await client.request(.dictionary([("command", .string("ping"))]), to: address).get(),
                answer["result"]?.text == "pong"
            {
                return
            }
        }
        throw NGClient.Failure.timeout(command: "ping (start-up)")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    static func freeUDPPort() throws -> Int { try freePort(type: SOCK_DGRAM) }

    /// A port the kernel picks for a socket of `type` on 127.0.0.1, released again for the caller.
    static func freePort(type: __socket_type) throws -> Int {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
