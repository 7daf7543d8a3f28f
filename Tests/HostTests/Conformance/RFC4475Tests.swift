import Foundation
import PluginAPI
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// RFC 4475's torture messages sent to a running Patchbay over UDP from a configured peer's address, each answered
/// as the RFC asks (Tests/Fixtures/rfc4475/EXPECTED.md), then a normal call still completes.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct RFC4475Tests {
    enum Expected: CustomStringConvertible {
        /// This final status.
        case status(Int)
        case oneOf([Int])
        /// Valid and accepted for processing: some final answer that is not a syntax or framing refusal.
        case accepted
        /// No answer: a response (nothing to answer) or a request without the headers a response needs.
        case silence

        var description: String {
            switch self {
            case .status(let s): return "\(s)"
            case .oneOf(let s): return "one of \(s)"
            case .accepted: return "accepted (not 400/416/505/513)"
            case .silence: return "silence"
            }
        }

        func matches(_ status: Int?) -> Bool {
            switch self {
            case .status(let s): return status == s
            case .oneOf(let s): return status.map(s.contains) ?? false
            case .accepted: return status.map { ![400, 416, 505, 513].contains($0) && $0 < 500 || $0 == 501 } ?? false
            case .silence: return status == nil
            }
        }
    }

    /// What Patchbay, a B2BUA that is neither registrar nor proxy, must answer. INVITEs to non-numbers are routed
    /// and find no route (404): that is "accepted". REGISTER, MESSAGE and the like get 405 (not a registrar).
    static let expected: [String: Expected] = [
        // 3.1.1 valid
        "wsinv": .accepted, "intmeth": .status(501), "esc01": .accepted, "escnull": .status(405), "esc02": .status(501),
        "lwsdisp": .accepted, "longreq": .accepted, "dblreq": .status(405), "semiuri": .accepted,
        "transports": .accepted, "mpart01": .status(405), "unreason": .silence, "noreason": .silence,
        // 3.1.2 invalid
        "badinv01": .status(400), "clerr": .status(400), "ncl": .status(400), "scalar02": .status(400),
        "scalarlg": .silence, "quotbal": .status(400), "ltgtruri": .status(400), "lwsruri": .status(400),
        "lwsstart": .status(400), "trws": .status(400), "escruri": .oneOf([400, 404]), "baddate": .accepted,
        "regbadct": .oneOf([400, 405]), "badaspec": .status(400), "baddn": .status(400), "badvers": .status(505),
        "mismatch01": .status(400), "mismatch02": .status(501), "bigcode": .silence,
        // 3.2 transaction layer
        "badbranch": .oneOf([200, 400]),
        // 3.3 application layer
        "insuf": .silence, "unkscm": .status(416), "novelsc": .status(416), "unksm2": .status(405),
        "bext01": .status(420), "invut": .accepted, "regaut01": .status(405), "multi01": .status(400),
        "mcl01": .status(400), "bcast": .silence, "zeromf": .oneOf([200, 483]), "cparam01": .status(405),
        "cparam02": .status(405), "regescrt": .status(405), "sdp01": .accepted,
        // 3.4 and the archive's leftover
        "inv2543": .accepted, "test": .silence,
    ]

    static let directory = TestSupport.path("Tests/Fixtures/rfc4475")

    @Test func everyTortureMessageGetsTheAnswerTheRFCAsksForAndCallsStillWork() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).filter { $0.hasSuffix(".dat") }
            .sorted()
        #expect(files.count == 50)
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        var failures: [String] = []
        do {
            let peer = try LoopbackUDP(port: pb.ports.pbx)
            defer { peer.close() }
            for file in files {
                let name = String(file.dropLast(4))
                guard let expected = Self.expected[name] else {
                    failures.append("\(name): no expectation")
                    continue
                }
                let bytes = try #require(FileManager.default.contents(atPath: "\(Self.directory)/\(file)")).map { $0 }
                _ = peer.receiveAll(for: .milliseconds(30))  // retransmissions of earlier answers
                peer.send(bytes, to: pb.ports.patchbay)
                let callID = Self.rawCallID(bytes)
                var status: Int?
                let deadline = ContinuousClock.now + .milliseconds(expected.isSilence ? 400 : 1500)
                while status == nil, case let left = deadline - ContinuousClock.now, left > .zero,
                    let reply = peer.receive(timeout: left)
                {
                    guard let m = try? SIPMessage(bytes: reply), m.callID == callID, let s = m.statusCode, s >= 200
                    else { continue }
                    status = s
                }
                if !expected.matches(status) {
                    failures.append("\(name): expected \(expected), got \(status.map(String.init) ?? "silence")")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(pb.log.suffix(3000))")
        // Patchbay survived all of it and still places calls.
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
    }

    /// The Call-ID as written in the raw message (the torture messages are not all parseable).
    static func rawCallID(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            if name == "call-id" || name == "i" {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

extension RFC4475Tests.Expected {
    var isSilence: Bool { if case .silence = self { true } else { false } }
}
