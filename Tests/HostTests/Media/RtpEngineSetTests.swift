import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import Media

/// Several rtpengine instances: weights, failover of a new call's offer, and health by ping, against real
/// rtpengines on loopback.
@Suite(.serialized, .enabled(if: RtpEngineUnderTest.isInstalled, "rtpengine (Debian rtpengine-daemon) is needed"))
struct RtpEngineSetTests {
    static var fast: NGClient.Settings {
        var s = NGClient.Settings()
        s.retransmitInterval = .milliseconds(50)
        s.attempts = 3
        return s
    }

    static func offer(_ callID: String) -> BencodeValue {
        .dictionary([
            ("command", .string("offer")), ("call-id", .string(callID)), ("from-tag", .string("a")),
            ("sdp", .string(NGClientTests.offer)),
        ])
    }

    static func address(_ port: Int) -> SocketAddress { try! SocketAddress(ipAddress: "127.0.0.1", port: port) }

    @Test func weightsShareNewCallsAndAKeyAlwaysChoosesTheSameInstance() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await NGClient.start(group: group)
        let set = RtpEngineSet(
            client: client,
            instances: [
                .init(name: "a", address: Self.address(1), weight: 3), .init(name: "b", address: Self.address(2)),
            ])
        let chosen = try await client.loop.submit { (0..<8).map { set.choose(for: UInt64($0), excluding: [])?.name } }
            .get()
        #expect(chosen == ["a", "a", "a", "b", "a", "a", "a", "b"])
        let without = try await client.loop.submit { set.choose(for: 0, excluding: ["a"])?.name }.get()
        #expect(without == "b")
        await client.close()
        try await group.shutdownGracefully()
    }

    @Test func aNewCallsOfferFailsOverAndTheSilentInstanceIsTakenOut() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let live = try RtpEngineUnderTest()
        defer { live.stop() }
        let client = try await NGClient.start(group: group, settings: Self.fast)
        try await live.ready(client)
        let silent = Self.address(try RtpEngineUnderTest.freeUDPPort())
        let set = RtpEngineSet(
            client: client,
            instances: [.init(name: "silent", address: silent), .init(name: "live", address: live.address)])
        // Key 0 chooses the first instance up: the silent one, which never answers.
        let (instance, answer) = try await set.start(Self.offer("failover@pbx"), key: 0).get()
        #expect(instance.name == "live")
        #expect(answer["sdp"]?.text?.contains("c=IN IP4 127.0.0.1") == true)
        #expect(try await set.isUp("silent").get() == false)
        // The next call goes straight to the live one.
        let (next, _) = try await set.start(Self.offer("next@pbx"), key: 0).get()
        #expect(next.name == "live")
        // A refusal is rtpengine's answer, not a dead instance: no failover, the instance stays up.
        await #expect(throws: NGClient.Failure.self) {
            _ = try await set.start(.dictionary([("command", .string("offer"))]), key: 1).get()
        }
        #expect(try await set.isUp("live").get())
        for id in ["failover@pbx", "next@pbx"] {
            _ = try await set.request(
                .dictionary([("command", .string("delete")), ("call-id", .string(id))]), on: instance
            ).get()
        }
        await client.close()
        try await group.shutdownGracefully()
    }

    @Test func healthChecksTakeAStoppedInstanceOutAndBringItBack() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var engine = try RtpEngineUnderTest()
        let port = engine.ngPort
        let client = try await NGClient.start(group: group, settings: Self.fast)
        try await engine.ready(client)
        let set = RtpEngineSet(client: client, instances: [.init(name: "only", address: engine.address)], downAfter: 2)
        set.startHealthChecks(every: .milliseconds(100))
        #expect(try await Self.eventually { try await set.isUp("only").get() })
        engine.stop()
        #expect(try await Self.eventually { try await !set.isUp("only").get() }, "two failed pings take it out")
        await #expect(throws: RtpEngineSet.Failure.noInstance(tried: [])) {
            _ = try await set.start(Self.offer("nowhere@pbx"), key: 0).get()
        }
        engine = try RtpEngineUnderTest(port: port)
        defer { engine.stop() }
        #expect(try await Self.eventually { try await set.isUp("only").get() }, "one answered ping brings it back")
        set.stopHealthChecks()
        await client.close()
        try await group.shutdownGracefully()
    }

    /// Polls `condition` for up to 5 s.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
