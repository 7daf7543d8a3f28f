import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Operations
@testable import Routing
@testable import SIPCore

/// Defects found by replaying robustness suites and vendor messages through a live `patchbay run`, each with the
/// real traffic that showed it: raw Call-ID octets, a malformed From, a target no offer can reach, and `process`
/// against what the engine really sends.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct EdgeCorrectnessTests {
    static func invite(callID: [UInt8], to port: UInt16, from pbxPort: UInt16, branch: String) -> [UInt8] {
        Array(
            """
            INVITE sip:0030987654@127.0.0.1:\(port) SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(pbxPort);branch=z9hG4bK-\(branch);rport\r
            Max-Forwards: 70\r
            From: <sip:2345@127.0.0.1:\(pbxPort)>;tag=\(branch)\r
            To: <sip:0030987654@127.0.0.1:\(port)>\r
            Call-ID: 
            """.utf8) + callID
            + Array(
                """
                \r
                CSeq: 1 INVITE\r
                Contact: <sip:2345@127.0.0.1:\(pbxPort)>\r
                Content-Length: 0\r
                \r

                """.utf8)
    }

    /// The Call-ID line of a raw message, as octets.
    static func callIDLine(_ bytes: [UInt8]) -> [UInt8]? {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        return lines.first { $0.starts(with: Array("Call-ID:".utf8)) }.map {
            Array($0.dropLast($0.last == 0x0D ? 1 : 0))
        }
    }

    /// Two INVITEs whose Call-IDs differ only in octets >= 0x80: two calls (the gateway gets two INVITEs), and
    /// every response carries its request's Call-ID byte for byte (RFC 3261 section 8.2.6.2).
    @Test func callIDOctetsAreKeptAndKeepCallsApart() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let pbx = try LoopbackUDP(port: pb.ports.pbx)
        let gw = try LoopbackUDP(port: pb.ports.gateway)
        let first: [UInt8] = Array("raw-".utf8) + [0xFE, 0x80] + Array("@pbx".utf8)
        let second: [UInt8] = Array("raw-".utf8) + [0xFF, 0x80] + Array("@pbx".utf8)
        pbx.send(
            Self.invite(callID: first, to: pb.ports.patchbay, from: pb.ports.pbx, branch: "one"), to: pb.ports.patchbay)
        pbx.send(
            Self.invite(callID: second, to: pb.ports.patchbay, from: pb.ports.pbx, branch: "two"), to: pb.ports.patchbay
        )
        let toGateway = gw.receiveAll(for: .seconds(1)).filter { $0.starts(with: Array("INVITE ".utf8)) }
        let bCallIDs = Set(toGateway.compactMap(Self.callIDLine))
        #expect(bCallIDs.count == 2, "one B leg per call: \(toGateway.count) INVITEs")
        let answers = pbx.receiveAll(for: .milliseconds(300))
        let echoed = Set(answers.compactMap(Self.callIDLine))
        #expect(
            echoed == [Array("Call-ID: ".utf8) + first, Array("Call-ID: ".utf8) + second], "\(answers.count) responses")
    }

    /// A response that matches nothing, and one that libosip2 refuses (the broken From a target echoed back), are
    /// said in the log, not dropped silently; Patchbay keeps serving.
    @Test func strayAndUnparsableResponsesAreLogged() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try LoopbackUDP(port: pb.ports.gateway)
        func response(from: String, branch: String) -> [UInt8] {
            Array(
                """
                SIP/2.0 200 OK\r
                Via: SIP/2.0/UDP 127.0.0.1:\(pb.ports.patchbay);branch=\(branch)\r
                From: \(from)\r
                To: <sip:030987654@127.0.0.1>;tag=gw1\r
                Call-ID: nobody-knows@127.0.0.1\r
                CSeq: 1 INVITE\r
                Content-Length: 0\r
                \r

                """.utf8)
        }
        gw.send(response(from: "<sip:2345@127.0.0.1>;tag=pb1", branch: "z9hG4bK-stray"), to: pb.ports.patchbay)
        #expect(await pb.waitForLog("response matches no transaction or call"))
        gw.send(
            response(from: "\"823\" <sip:user@127.0.0.1>;=token;tag=pb1", branch: "z9hG4bK-x"), to: pb.ports.patchbay)
        #expect(await pb.waitForLog("dropped a response that does not parse"))
        // Still serving.
        let pbx = try await pb.sipp(
            "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "0999", keys: ["status": "404"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
    }

    /// `From: 823 <sip:...>=token` (a parameter without `;` or name) is refused with 400 at the edge; before, the
    /// gateway's 200 echoed the broken From back, libosip2 refused that 200, and the call hung.
    @Test func aFromWithAMalformedParameterGets400() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let pbx = try await pb.sipp(
            "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "0030987654",
            keys: ["status": "400", "from_name": "823 ", "from_params": "=token"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        let answer = try SIPParser().parse(Array(try #require(try pbx.messages().received("400").first).text.utf8))
        #expect(answer.header("Warning")?.contains("malformed From header") == true, "\(answer.text)")
        // Still serving: the next call goes through.
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let good = try await pb.sipp("uac-call", label: "pbx2", port: pb.ports.pbx, service: "0030987654")
        defer { _ = good.stop() }
        #expect(await good.wait(timeout: .seconds(15)) == .exited(0), "\(good.diagnostics)")
    }

    /// Both targets' codec lists leave nothing of the offer: neither gets an INVITE, and the caller gets 488 with
    /// a Warning naming the policy; the call record says why.
    @Test func noUsableCodecIsAnswered488WithAWarning() async throws {
        let pb = try await PatchbayUnderTest.start(editConfig: {
            $0.replacingOccurrences(
                of: "numbering: {country_code: \"49\", area_code: \"30\"}",
                with: "numbering: {country_code: \"49\", area_code: \"30\"}\n    options: {codecs: [G722]}"
            ).replacingOccurrences(
                of: "numbering: {country_code: \"49\"}\n",
                with: "numbering: {country_code: \"49\"}\n    options: {codecs: [G722]}\n")
        })
        defer { pb.stop() }
        let pbx = try await pb.sipp(
            "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "001701234567", keys: ["status": "488"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        let answer = try #require(
            try SIPParser().parse(Array(try #require(try pbx.messages().received("488").first).text.utf8)))
        #expect(answer.header("Warning")?.hasPrefix("305 ") == true, "\(answer.text)")
        #expect(answer.header("Warning")?.contains("codec policy of peer") == true)
        #expect(await pb.waitForLog("call failed"))
        #expect(pb.attempts == ["itsp:488,gw:488"], "\(pb.attempts)")
    }

    /// `patchbay process` builds what the engine sends: the INVITE the gateway received and the 200 the PBX
    /// received are what `OfflineMessage` makes of the messages the other side sent, but for the per-call
    /// identifiers (Call-ID, tags, branch).
    @Test func processShowsWhatTheEngineSends() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", keys: ["caller": "2345"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        func parse(_ m: SippLoggedMessage?) throws -> SIPMessage {
            try SIPParser().parse(Array(try #require(m).text.utf8))
        }
        let sentByPBX = try parse(try pbx.messages().sent("INVITE").first)
        let receivedByGW = try parse(try gw.messages().received("INVITE").first)
        let sentByGW = try parse(try gw.messages().sent("200").first)
        let receivedByPBX = try parse(try pbx.messages().received("200").first)
        let site = try #require(TestSupport.loadSite(pb.configFile.path))
        let offline = try #require(try OfflineMessage.request(sentByPBX, from: "pbx", site: site).sent)
        #expect(Self.comparable(offline) == Self.comparable(receivedByGW))
        let offlineAnswer = OfflineMessage.response(
            sentByGW, from: "gw", to: "pbx", callerInvite: sentByPBX, site: site)
        #expect(Self.comparable(offlineAnswer) == Self.comparable(receivedByPBX))
    }

    /// Header lines with the per-call identifiers blanked: branch, tags, Patchbay's Call-ID.
    static func comparable(_ m: SIPMessage) -> [String] {
        var out = m
        let via = m.header("Via").map {
            $0.replacingOccurrences(of: #";branch=[^;]*"#, with: ";branch=*", options: .regularExpression)
        }
        if let via { out.setHeader("Via", via) }
        for name in ["From", "To"] {
            if var a = out.header(name).flatMap(NameAddress.init), a.tag != nil, !(name == "From" && !m.isRequest) {
                a.tag = "*"
                out.setHeader(name, a.description)
            }
        }
        if m.isRequest { out.setHeader("Call-ID", "*") }
        return out.headers.map { "\($0.name): \($0.value)" } + [String(decoding: out.body, as: UTF8.self)]
    }
}
