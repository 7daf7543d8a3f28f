import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import Media

/// The ng client against a real rtpengine on loopback: every command a call will use, and what happens when
/// nothing answers.
@Suite(.serialized, .enabled(if: RtpEngineUnderTest.isInstalled, "rtpengine (Debian rtpengine-daemon) is needed"))
struct NGClientTests {
    static let offer = """
        v=0\r
        o=pbx 1001 1 IN IP4 10.1.2.3\r
        s=call\r
        c=IN IP4 10.1.2.3\r
        t=0 0\r
        m=audio 20000 RTP/AVP 8 101\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:101 telephone-event/8000\r

        """

    static func command(_ name: String, _ pairs: [(String, BencodeValue)] = []) -> BencodeValue {
        .dictionary([("command", .string(name))] + pairs.map { (key: $0.0, value: $0.1) })
    }

    @Test func offerAnswerQueryAndDeleteAgainstARealRtpengine() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let engine = try RtpEngineUnderTest()
        defer { engine.stop() }
        let client = try await NGClient.start(group: group)
        try await engine.ready(client)
        let ids: [(String, BencodeValue)] = [("call-id", .string("call-1@pbx")), ("from-tag", .string("a-tag"))]
        // The offer: rtpengine's own address and a port of its range replace the PBX's 10.1.2.3:20000.
        let offered = try await client.request(
            Self.command("offer", ids + [("sdp", .string(Self.offer))]), to: engine.address
        ).get()
        let sdp = try #require(offered["sdp"]?.text)
        #expect(sdp.contains("c=IN IP4 127.0.0.1"), "\(sdp)")
        #expect(!sdp.contains("10.1.2.3\r\nt="), "no internal address in the connection line")
        #expect(!sdp.contains("m=audio 20000 "))
        let answer = Self.offer.replacingOccurrences(of: "10.1.2.3", with: "192.0.2.9")
        let answered = try await client.request(
            Self.command("answer", ids + [("to-tag", .string("b-tag")), ("sdp", .string(answer))]),
            to: engine.address
        ).get()
        #expect(answered["sdp"]?.text?.contains("c=IN IP4 127.0.0.1") == true)
        let listed = try await client.request(Self.command("list"), to: engine.address).get()
        #expect(listed["calls"]?.list?.contains(.string("call-1@pbx")) == true)
        _ = try await client.request(Self.command("delete", ids), to: engine.address).get()
        // rtpengine's own word that the call is gone: a query for it is refused.
        await #expect(throws: NGClient.Failure.self) {
            _ = try await client.request(Self.command("query", ids), to: engine.address).get()
        }
        let after = try await client.request(Self.command("list"), to: engine.address).get()
        #expect(after["calls"]?.list?.isEmpty == true, "no session outlives its call")
        await client.close()
        try await group.shutdownGracefully()
    }

    @Test func anErrorResultIsARefusalWithRtpenginesReason() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let engine = try RtpEngineUnderTest()
        defer { engine.stop() }
        let client = try await NGClient.start(group: group)
        try await engine.ready(client)
        do {
            _ = try await client.request(Self.command("answer", [("call-id", .string("nobody"))]), to: engine.address)
                .get()
            Issue.record("an answer for an unknown call was accepted")
        } catch let failure as NGClient.Failure {
            guard case .refused(let command, let reason) = failure else {
                Issue.record("\(failure)")
                return
            }
            #expect(command == "answer")
            #expect(!reason.isEmpty)
        }
        await client.close()
        try await group.shutdownGracefully()
    }

    @Test func noAnswerIsATimeoutAfterEveryRetransmission() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var settings = NGClient.Settings()
        settings.retransmitInterval = .milliseconds(50)
        settings.attempts = 3
        let client = try await NGClient.start(group: group, settings: settings)
        // A port nobody listens on.
        let nowhere = try SocketAddress(ipAddress: "127.0.0.1", port: try RtpEngineUnderTest.freeUDPPort())
        let started = ContinuousClock.now
        await #expect(throws: NGClient.Failure.timeout(command: "ping")) {
            _ = try await client.request(Self.command("ping"), to: nowhere).get()
        }
        #expect(ContinuousClock.now - started >= .milliseconds(150), "three sends, 50 ms apart, before giving up")
        await client.close()
        try await group.shutdownGracefully()
    }
}
